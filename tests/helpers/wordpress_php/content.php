<?php
// Generates a site's content from a JSON spec: php content.php SPEC.json -> JSON of what was made.
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/post.php';
$spec = json_decode(file_get_contents($argv[1]), true);
wp_defer_term_counting(true);
$users = ['admin' => 1];
foreach ($spec['users'] as $u) {
    $users[$u['login']] = wp_insert_user(['user_login' => $u['login'], 'user_pass' => 'pw-' . $u['login'],
        'display_name' => $u['display_name'], 'role' => 'author', 'user_email' => $u['login'] . '@example.test']);
}
$terms = [];
foreach ($spec['categories'] as $name) {
    $terms[$name] = wp_insert_term($name, 'category')['term_id'];
}
$upload = wp_upload_dir();
$png = base64_decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==');
$made = [];
foreach ($spec['posts'] as $p) {
    $when = time() - (int)round($p['days_ago'] * 86400);
    $status = $p['status'] === 'trash' ? 'publish' : $p['status'];
    $postarr = ['post_title' => $p['title'], 'post_content' => $p['content'],
        'post_excerpt' => $p['excerpt'] ?? '', 'post_status' => $status,
        'post_type' => $p['type'] ?? 'post', 'post_author' => $users[$p['author'] ?? 'admin'],
        'post_password' => $p['password'] ?? '', 'post_date_gmt' => gmdate('Y-m-d H:i:s', $when),
        'post_date' => gmdate('Y-m-d H:i:s', $when), 'tags_input' => $p['tags'] ?? [],
        'post_category' => array_map(fn($c) => $terms[$c], $p['categories'] ?? []),
        'meta_input' => $p['meta'] ?? []];
    if ($status === 'draft' || $status === 'pending') {
        unset($postarr['post_date_gmt']);  // an undated draft, as editors leave them
    }
    $id = wp_insert_post($postarr, true);
    if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
    if (!empty($p['primary'])) {
        update_post_meta($id, '_yoast_wpseo_primary_category', $terms[$p['primary']]);
    }
    if (!empty($p['image'])) {
        $file = $upload['path'] . "/feature-$id.png";
        file_put_contents($file, $png);
        $att = wp_insert_attachment(['post_mime_type' => 'image/png', 'post_title' => "Feature $id",
            'post_status' => 'inherit', 'guid' => $upload['url'] . "/feature-$id.png"], $file, $id);
        set_post_thumbnail($id, $att);
    }
    if ($p['status'] === 'trash') { wp_trash_post($id); }
    $made[$p['key']] = ['id' => $id, 'link' => get_permalink($id)];
}
wp_defer_term_counting(false);
if (!empty($spec['front_page'])) {
    update_option('show_on_front', 'page');
    update_option('page_on_front', $made[$spec['front_page']]['id']);
}
[$password] = WP_Application_Passwords::create_new_application_password(1, ['name' => 'related-reading']);
flush_rewrite_rules();
echo json_encode(['posts' => $made, 'app_password' => $password]);
