<?php
// mu-plugin: exposes Yoast SEO's primary category meta in the REST API, as sites using Yoast's
// primary term expose it (Yoast itself is not packaged in Debian).
add_action('init', function () {
    register_post_meta('post', '_yoast_wpseo_primary_category', ['type' => 'integer',
        'single' => true, 'show_in_rest' => true, 'auth_callback' => '__return_true']);
});
