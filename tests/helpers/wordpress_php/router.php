<?php
// Router for PHP's built-in server: one docroot serves both test sites; the second lives in /blog.
$prefix = getenv('RR_WP_PREFIX') ?: '';
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($prefix !== '' && strpos($path, $prefix) === 0) {
    $path = substr($path, strlen($prefix)) ?: '/';
}
$content = getenv('RR_WP_CONTENT');
if (strpos($path, '/wp-content/') === 0) {
    $file = $content . substr($path, strlen('/wp-content'));
} else {
    $file = '/usr/share/wordpress' . $path;
}
if ($path !== '/' && is_file($file) && substr($file, -4) !== '.php') {
    $types = ['css' => 'text/css', 'js' => 'application/javascript', 'png' => 'image/png',
              'jpg' => 'image/jpeg', 'svg' => 'image/svg+xml', 'woff2' => 'font/woff2'];
    $ext = strtolower(pathinfo($file, PATHINFO_EXTENSION));
    header('Content-Type: ' . ($types[$ext] ?? 'application/octet-stream'));
    readfile($file);
    return true;
}
$script = basename($path);
if (dirname($path) === '/' && preg_match('/^wp-[a-z-]+\.php$/', $script) && is_file(__DIR__ . '/' . $script)) {
    $_SERVER['SCRIPT_NAME'] = $prefix . '/' . $script;
    require __DIR__ . '/' . $script;
    return true;
}
$_SERVER['SCRIPT_NAME'] = $prefix . '/index.php';
$_SERVER['PHP_SELF'] = $prefix . '/index.php';
require __DIR__ . '/index.php';
