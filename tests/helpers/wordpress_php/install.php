<?php
// Installs an empty site: php install.php TITLE PERMALINK_STRUCTURE
define('WP_INSTALLING', true);
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install($argv[1], 'admin', 'admin@example.test', true, '', 'admin-password');
update_option('siteurl', getenv('RR_WP_URL'));
update_option('home', getenv('RR_WP_URL'));
update_option('permalink_structure', $argv[2]);
update_option('blog_public', '1');
echo "installed\n";
