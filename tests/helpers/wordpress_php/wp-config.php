<?php
// Test-only configuration: the database is chosen by the environment of the PHP process.
define('DB_NAME', getenv('RR_WP_DB'));
define('DB_USER', 'wp');
define('DB_PASSWORD', 'wp');
define('DB_HOST', getenv('RR_WP_DB_HOST'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('AUTH_KEY', 'test'); define('SECURE_AUTH_KEY', 'test'); define('LOGGED_IN_KEY', 'test');
define('NONCE_KEY', 'test'); define('AUTH_SALT', 'test'); define('SECURE_AUTH_SALT', 'test');
define('LOGGED_IN_SALT', 'test'); define('NONCE_SALT', 'test');
define('WP_CONTENT_DIR', getenv('RR_WP_CONTENT'));
define('WP_CONTENT_URL', getenv('RR_WP_URL') . '/wp-content');
define('WP_ENVIRONMENT_TYPE', 'local');  // application passwords over plain http
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_DEBUG', false);
$table_prefix = 'wp_';
if (!defined('ABSPATH')) {
    define('ABSPATH', '/usr/share/wordpress/');
}
require_once ABSPATH . 'wp-settings.php';
