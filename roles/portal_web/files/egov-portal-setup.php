<?php
// Installed by Ansible (role portal_web): the WordPress network and its sites, through WordPress's own
// PHP API (there is no wp-cli package in Debian). Idempotent: creates only what is missing.
//
//   php egov-portal-setup.php network SITES_JSON   install WordPress and the Multisite network (subdomains)
//   php egov-portal-setup.php sites SITES_JSON     create missing sites and skeleton pages, fix titles
//
// Prints one JSON object: {"changed": bool, "created": [...], "pages": N, "updated": [...], "sites": N}.
if (PHP_SAPI !== 'cli' || $argc !== 3) {
    fwrite(STDERR, "usage: php egov-portal-setup.php network|sites SITES_JSON\n");
    exit(2);
}
$mode = $argv[1];
$config = json_decode(file_get_contents($argv[2]), true);
if (!is_array($config)) {
    fwrite(STDERR, "cannot read {$argv[2]}\n");
    exit(2);
}
$network = $config['network'];
$_SERVER['HTTP_HOST'] = $network['domain'];
$_SERVER['SERVER_NAME'] = $network['domain'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['HTTPS'] = 'on';
$_SERVER['SERVER_PORT'] = '443';
define('WP_HTTP_BLOCK_EXTERNAL', true);   // no loopback or wildcard-DNS probe during the install
$result = ['changed' => false, 'created' => [], 'pages' => 0, 'updated' => [], 'sites' => 0];

function egov_done(array $result): void
{
    echo json_encode($result, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
    exit(0);
}

function egov_fail(string $message): void
{
    fwrite(STDERR, $message . "\n");
    exit(1);
}

if ($mode === 'network') {
    define('EGOV_PORTAL_SINGLE', true);    // the config defines no Multisite constant in this run
    define('WP_INSTALLING', true);
    function wp_new_blog_notification()    // pluggable: no mail about the new install
    {
    }
    require '/usr/share/wordpress/wp-load.php';
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    require_once ABSPATH . 'wp-admin/includes/network.php';
    global $wpdb;
    // as wp-admin/network.php does: a single site has no names for the network tables yet
    foreach ($wpdb->tables('ms_global') as $table => $prefixed_table) {
        $wpdb->$table = $prefixed_table;
    }
    if (!is_blog_installed()) {
        $install = wp_install($network['title'], $network['admin_login'], $network['admin_email'], true, '',
                              wp_generate_password(48, true, true));
        if (is_wp_error($install)) {
            egov_fail('wp_install: ' . $install->get_error_message());
        }
        $result['changed'] = true;
        $result['created'][] = 'wordpress';
    }
    $has_site_table = $wpdb->get_var($wpdb->prepare('SHOW TABLES LIKE %s', $wpdb->esc_like($wpdb->site)));
    $networks = $has_site_table ? (int) $wpdb->get_var("SELECT COUNT(*) FROM {$wpdb->site}") : 0;
    if ($networks === 0) {
        install_network();
        $populated = populate_network(1, $network['domain'], $network['admin_email'], $network['title'], '/', true);
        // the wildcard-DNS probe is blocked on purpose: every site's name is in the province DNS
        if (is_wp_error($populated) && $populated->get_error_code() !== 'no_wildcard_dns') {
            egov_fail('populate_network: ' . $populated->get_error_message());
        }
        $result['changed'] = true;
        $result['created'][] = 'network';
    }
    egov_done($result);
}

if ($mode !== 'sites') {
    egov_fail("unknown mode $mode");
}
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
if (!is_multisite()) {
    egov_fail('the network is not installed: run the network mode first');
}
$admin = get_user_by('login', $network['admin_login']);
if (!$admin) {
    egov_fail("no user {$network['admin_login']}");
}
$upload_kb = (int) $network['upload_max_mb'] * 1024;
if ((int) get_site_option('fileupload_maxk') !== $upload_kb) {
    update_site_option('fileupload_maxk', $upload_kb);
    $result['changed'] = true;
}
if (get_site_option('WPLANG') !== $network['language']) {
    update_site_option('WPLANG', $network['language']);
    $result['changed'] = true;
}
// never `$blog_id` in this global scope: it is WordPress's own global (get_current_blog_id() reads it),
// and switch_to_blog() would think it is already on that site and switch nothing (the first version did:
// every site's options were written into the main site's tables)
foreach ($config['sites'] as $site) {
    $egov_site_id = (int) get_blog_id_from_url($site['domain'], '/');
    if ($egov_site_id === 0) {
        $egov_site_id = wpmu_create_blog($site['domain'], '/', $site['title'], $admin->ID, ['public' => 1],
                                    get_current_network_id());
        if (is_wp_error($egov_site_id)) {
            egov_fail("wpmu_create_blog {$site['domain']}: " . $egov_site_id->get_error_message());
        }
        $result['changed'] = true;
        $result['created'][] = $site['domain'];
    }
    switch_to_blog($egov_site_id);
    if (get_current_blog_id() !== (int) $egov_site_id) {
        egov_fail("switch_to_blog($egov_site_id) for {$site['domain']} stayed on site " . get_current_blog_id());
    }
    // once per site: WordPress's sample post and page go (a government portal does not publish them)
    if (get_option('egov_portal_sample_content_removed') !== '1') {
        foreach ([['hello-world', 'post'], ['sample-page', 'page']] as [$slug, $type]) {
            $sample = get_page_by_path($slug, OBJECT, $type);
            if ($sample !== null) {
                wp_delete_post($sample->ID, true);
            }
        }
        update_option('egov_portal_sample_content_removed', '1');
        $result['changed'] = true;
    }
    if (get_option('blogname') !== $site['title']) {
        update_option('blogname', $site['title']);
        $result['changed'] = true;
        $result['updated'][] = $site['domain'];
    }
    $url = 'https://' . $site['domain'];        // subdomain sites are created with http:// URLs
    foreach (['siteurl', 'home'] as $option) {
        if (get_option($option) !== $url) {
            update_option($option, $url);
            $result['changed'] = true;
            $result['updated'][] = "{$site['domain']} $option";
        }
    }
    if (get_option('WPLANG') !== $network['language']) {
        update_option('WPLANG', $network['language']);
        $result['changed'] = true;
        $result['updated'][] = $site['domain'];
    }
    if (get_option('permalink_structure') !== '/%postname%/') {
        update_option('permalink_structure', '/%postname%/');
        delete_option('rewrite_rules');
        $result['changed'] = true;
    }
    foreach ($site['pages'] as $order => $page) {
        if (get_page_by_path($page['slug'], OBJECT, 'page') !== null) {
            continue;                       // editors own a page once it exists
        }
        $post = wp_insert_post(['post_type' => 'page', 'post_status' => 'publish', 'post_name' => $page['slug'],
                                'post_title' => $page['title'], 'post_content' => $page['content'],
                                'post_author' => $admin->ID, 'menu_order' => $order + 1], true);
        if (is_wp_error($post)) {
            egov_fail("page {$page['slug']} of {$site['domain']}: " . $post->get_error_message());
        }
        $result['changed'] = true;
        $result['pages']++;
    }
    restore_current_blog();
    $result['sites']++;
}
egov_done($result);
