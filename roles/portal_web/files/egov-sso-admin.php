<?php
/**
 * Plugin Name: eGov SSO administration
 * Description: Site administration only through the province SSO (LemonLDAP::NG, OpenID Connect), for officials of the site's owning unit.
 * Version: 1.0.0
 *
 * Installed by Ansible (role portal_web, tasks/sso.yml) as a must-use plugin; design in docs/portal.md.
 *
 * - wp-login.php starts the OpenID Connect authorization-code flow of the relying party `portal`
 *   (state and nonce in a signed, short-lived cookie bound to this browser and this site); the SSO
 *   sends the browser back to https://<site>/wp-login.php?code=...&state=...
 * - the code is exchanged server-side (curl, TLS verified against the province CA chain: the SSO is
 *   reached directly, not through WordPress's HTTP API and its WP_HTTP_BLOCK_EXTERNAL);
 *   the ID token's iss/aud/exp/nonce are checked (it came from the token endpoint over verified
 *   TLS with client authentication: OIDC Core 3.1.3.7 lets that replace the signature check);
 *   the claims come from the userinfo endpoint (same `sub`).
 * - the official becomes the WordPress user whose login is the uid (created on first login, email
 *   and name from the claims); the unit claim (the directory's departmentNumber) is kept in the
 *   user's meta and decides, on every request, the role on the current site: `administrator` when
 *   the unit owns the site (the site -> units map Ansible writes from the model), no role otherwise
 *   (and 403 on wp-admin).
 * - password logins are refused for everyone (wp-login.php POST, the `authenticate` filter, XML-RPC,
 *   application passwords, password resets): the network administrator of the install is only
 *   usable from the CLI scripts, which this plugin leaves alone.
 *
 * Settings: EGOV_SSO_CONFIG_FILE (JSON written by Ansible, readable by php-fpm only).
 */

if (!defined('ABSPATH')) {
    exit;
}
// the CLI scripts (egov-portal-setup.php, the tests' probes) run WordPress's API directly
if (PHP_SAPI === 'cli') {
    return;
}
if (!defined('EGOV_SSO_CONFIG_FILE')) {
    define('EGOV_SSO_CONFIG_FILE', '/etc/egov-portal/sso-admin.json');
}
const EGOV_SSO_FLOW_COOKIE = 'egov_sso_flow';
const EGOV_SSO_FLOW_SECONDS = 600;
const EGOV_SSO_UNIT_META = 'egov_unit';
const EGOV_SSO_LEEWAY = 60;

/** The settings Ansible wrote (null when missing or malformed: every check then fails closed). */
function egov_sso_config(): ?array
{
    static $config = false;
    if ($config === false) {
        $config = null;
        $raw = is_readable(EGOV_SSO_CONFIG_FILE) ? file_get_contents(EGOV_SSO_CONFIG_FILE) : false;
        $data = is_string($raw) ? json_decode($raw, true) : null;
        $required = ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'client_id',
                     'client_secret', 'scope', 'unit_claim', 'ca_file', 'timeout', 'session_hours', 'sites'];
        if (is_array($data) && count(array_diff($required, array_keys($data))) === 0 && is_array($data['sites'])
            && $data['client_secret'] !== '') {
            $config = $data;
        } else {
            error_log('egov-sso-admin: ' . EGOV_SSO_CONFIG_FILE . ' is missing or incomplete: SSO logins refused');
        }
    }
    return $config;
}

/** Stop the request with an error page and an HTTP status (403 refused, 502/503 SSO trouble). */
function egov_sso_die(string $message, int $status): void
{
    wp_die(esc_html($message), esc_html__('Access denied'), ['response' => $status, 'back_link' => false]);
    exit;
}

/** The units owning the current site (from the map; none for an unknown site). */
function egov_sso_site_units(array $config): array
{
    $site = get_site();
    $domain = $site ? strtolower($site->domain) : '';
    $units = $config['sites'][$domain] ?? [];
    return is_array($units) ? array_values(array_map('strval', $units)) : [];
}

/** The units of a user, as the last SSO login recorded them. */
function egov_sso_user_units(int $user_id): array
{
    $units = get_user_meta($user_id, EGOV_SSO_UNIT_META, true);
    return is_array($units) ? array_values(array_map('strval', $units)) : [];
}

/** Does the user belong to a unit owning the current site? */
function egov_sso_is_owner(int $user_id, array $config): bool
{
    $units = egov_sso_user_units($user_id);
    return $units !== [] && count(array_intersect($units, egov_sso_site_units($config))) > 0;
}

/**
 * Make the user's role on the current site what the unit says: administrator for an official of an
 * owning unit, no role at all for anyone else. Writes only when the role differs. Returns ownership.
 */
function egov_sso_sync_role(WP_User $user, array $config): bool
{
    $blog_id = get_current_blog_id();
    $owner = egov_sso_is_owner($user->ID, $config);
    $user->for_site($blog_id);
    $roles = array_values($user->roles);
    if ($owner) {
        if (!is_user_member_of_blog($user->ID, $blog_id)) {
            add_user_to_blog($blog_id, $user->ID, 'administrator');
        } elseif ($roles !== ['administrator']) {
            $user->set_role('administrator');
        }
    } elseif ($roles !== []) {
        $user->set_role('');
    }
    return $owner;
}

/** A request parameter as a string ('' when absent or not a string). */
function egov_sso_param(array $source, string $name): string
{
    return isset($source[$name]) && is_string($source[$name]) ? wp_unslash($source[$name]) : '';
}

function egov_sso_b64url_encode(string $data): string
{
    return rtrim(strtr(base64_encode($data), '+/', '-_'), '=');
}

function egov_sso_b64url_decode(string $data): string
{
    $data = strtr($data, '-_', '+/');
    $decoded = base64_decode($data . str_repeat('=', (4 - strlen($data) % 4) % 4), true);
    return $decoded === false ? '' : $decoded;
}

/** HMAC of the flow cookie: bound to this network's secret keys. */
function egov_sso_flow_mac(string $payload): string
{
    return hash_hmac('sha256', $payload, 'egov-sso-flow|' . wp_salt('auth'));
}

function egov_sso_set_flow_cookie(string $value, int $expires): void
{
    setcookie(EGOV_SSO_FLOW_COOKIE, $value, ['expires' => $expires, 'path' => '/', 'secure' => true,
                                             'httponly' => true, 'samesite' => 'Lax']);
}

/** The redirect URI registered at the SSO for this site (exact match there). */
function egov_sso_redirect_uri(): string
{
    return 'https://' . strtolower(get_site()->domain) . '/wp-login.php';
}

/** Send the browser to the SSO's authorization endpoint; state and nonce kept in a signed cookie. */
function egov_sso_start(array $config): void
{
    $redirect_to = egov_sso_param($_REQUEST, 'redirect_to') ?: admin_url();
    $flow = ['state' => bin2hex(random_bytes(16)), 'nonce' => bin2hex(random_bytes(16)),
             'blog' => get_current_blog_id(), 'redirect_to' => wp_validate_redirect($redirect_to, admin_url()),
             'exp' => time() + EGOV_SSO_FLOW_SECONDS];
    $payload = egov_sso_b64url_encode((string) wp_json_encode($flow));
    egov_sso_set_flow_cookie($payload . '.' . egov_sso_flow_mac($payload), $flow['exp']);
    $query = http_build_query(['response_type' => 'code', 'client_id' => $config['client_id'],
                               'redirect_uri' => egov_sso_redirect_uri(), 'scope' => $config['scope'],
                               'state' => $flow['state'], 'nonce' => $flow['nonce']], '', '&', PHP_QUERY_RFC3986);
    nocache_headers();
    wp_redirect($config['authorization_endpoint'] . '?' . $query);   // the SSO is another host
    exit;
}

/** The flow this browser started on this site, checked (signature, expiry, site, state); null if not. */
function egov_sso_take_flow(string $state): ?array
{
    $cookie = isset($_COOKIE[EGOV_SSO_FLOW_COOKIE]) ? (string) $_COOKIE[EGOV_SSO_FLOW_COOKIE] : '';
    egov_sso_set_flow_cookie('', time() - 3600);                     // single use
    $parts = explode('.', $cookie);
    if (count($parts) !== 2 || !hash_equals(egov_sso_flow_mac($parts[0]), $parts[1])) {
        return null;
    }
    $flow = json_decode(egov_sso_b64url_decode($parts[0]), true);
    if (!is_array($flow) || !isset($flow['state'], $flow['nonce'], $flow['blog'], $flow['exp'], $flow['redirect_to'])) {
        return null;
    }
    if ((int) $flow['exp'] < time() || (int) $flow['blog'] !== get_current_blog_id()
        || !hash_equals((string) $flow['state'], $state)) {
        return null;
    }
    return $flow;
}

/**
 * One HTTPS request to the SSO with curl: TLS verified against the CA chain, no proxy, no redirect.
 * Returns [status, decoded JSON object or null, transport error].
 */
function egov_sso_http(array $config, string $url, ?array $form, array $headers): array
{
    $curl = curl_init($url);
    if ($curl === false) {
        return [0, null, 'curl_init failed'];
    }
    $timeout = max(1, (int) $config['timeout']);
    curl_setopt_array($curl, [
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_PROTOCOLS => CURLPROTO_HTTPS,
        CURLOPT_SSL_VERIFYPEER => true,
        CURLOPT_SSL_VERIFYHOST => 2,
        CURLOPT_CAINFO => (string) $config['ca_file'],
        CURLOPT_PROXY => '',
        CURLOPT_CONNECTTIMEOUT => $timeout,
        CURLOPT_TIMEOUT => $timeout,
        CURLOPT_USERAGENT => 'egov-sso-admin',
        CURLOPT_HTTPHEADER => array_merge(['Accept: application/json'], $headers),
    ]);
    if ($form !== null) {
        curl_setopt($curl, CURLOPT_POST, true);
        curl_setopt($curl, CURLOPT_POSTFIELDS, http_build_query($form, '', '&', PHP_QUERY_RFC3986));
    }
    $body = curl_exec($curl);
    $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    $error = curl_error($curl);
    curl_close($curl);
    if (!is_string($body)) {
        return [0, null, $error !== '' ? $error : 'no response'];
    }
    $json = json_decode($body, true);
    return [$status, is_array($json) ? $json : null, ''];
}

/** The ID token's claims after the checks of OIDC Core 3.1.3.7 (iss, aud, azp, exp, iat, nonce); null if one fails. */
function egov_sso_id_token_claims(array $config, string $id_token, string $nonce): ?array
{
    $parts = explode('.', $id_token);
    if (count($parts) !== 3) {
        return null;
    }
    $claims = json_decode(egov_sso_b64url_decode($parts[1]), true);
    if (!is_array($claims) || !isset($claims['iss'], $claims['aud'], $claims['exp'], $claims['sub'])) {
        return null;
    }
    $audiences = is_array($claims['aud']) ? $claims['aud'] : [$claims['aud']];
    $now = time();
    $ok = rtrim((string) $claims['iss'], '/') === rtrim((string) $config['issuer'], '/')
        && in_array($config['client_id'], $audiences, true)
        && (count($audiences) === 1 || ($claims['azp'] ?? '') === $config['client_id'])
        && (int) $claims['exp'] + EGOV_SSO_LEEWAY >= $now
        && (!isset($claims['iat']) || (int) $claims['iat'] - EGOV_SSO_LEEWAY <= $now)
        && isset($claims['nonce']) && hash_equals($nonce, (string) $claims['nonce']);
    return $ok ? $claims : null;
}

/** The values of the unit claim (a string, or a list when the directory holds several). */
function egov_sso_units_of(array $userinfo, string $claim): array
{
    $value = $userinfo[$claim] ?? [];
    $values = is_array($value) ? $value : [$value];
    $units = [];
    foreach ($values as $unit) {
        if (is_string($unit) && preg_match('/^[a-z0-9][a-z0-9-]*$/', $unit) === 1) {
            $units[] = $unit;
        }
    }
    return array_values(array_unique($units));
}

/** The WordPress user of an official (login = uid), created on first login, email and name kept current. */
function egov_sso_user(string $uid, string $email, string $name): WP_User
{
    $user = get_user_by('login', $uid);
    if (!$user) {
        $created = wpmu_create_user($uid, wp_generate_password(64, true, true), $email);
        if (!$created) {
            egov_sso_die("The portal account of $uid could not be created.", 500);
        }
        $user = get_user_by('id', $created);
        if (!$user) {
            egov_sso_die("The portal account of $uid could not be read.", 500);
        }
    }
    $changes = [];
    if ($email !== '' && strtolower($user->user_email) !== strtolower($email)) {
        $changes['user_email'] = $email;
    }
    if ($name !== '' && $user->display_name !== $name) {
        $changes['display_name'] = $name;
    }
    if ($changes !== []) {
        add_filter('send_email_change_email', '__return_false');
        $updated = wp_update_user(['ID' => $user->ID] + $changes);
        if (is_wp_error($updated)) {
            error_log("egov-sso-admin: $uid: " . $updated->get_error_message());
        }
        $user = get_user_by('id', $user->ID) ?: $user;
    }
    return $user;
}

/** The SSO sent the browser back: check, exchange the code, log the official in, go on. */
function egov_sso_callback(array $config): void
{
    nocache_headers();
    $flow = egov_sso_take_flow(egov_sso_param($_GET, 'state'));
    if ($flow === null) {
        egov_sso_die('The sign-in did not start here or has expired: open the administration page again.', 403);
    }
    if (isset($_GET['error'])) {
        egov_sso_die('The SSO refused the sign-in: ' . sanitize_text_field(egov_sso_param($_GET, 'error')), 403);
    }
    $code = egov_sso_param($_GET, 'code');
    if ($code === '') {
        egov_sso_die('The SSO returned no authorization code.', 403);
    }
    $basic = base64_encode(rawurlencode($config['client_id']) . ':' . rawurlencode($config['client_secret']));
    [$status, $token, $error] = egov_sso_http($config, $config['token_endpoint'],
        ['grant_type' => 'authorization_code', 'code' => $code, 'redirect_uri' => egov_sso_redirect_uri()],
        ["Authorization: Basic $basic"]);
    if ($status === 0) {
        error_log("egov-sso-admin: token endpoint unreachable: $error");
        egov_sso_die('The SSO cannot be reached from the portal.', 502);
    }
    if ($status !== 200 || !is_array($token) || !is_string($token['access_token'] ?? null)
        || !is_string($token['id_token'] ?? null)) {
        error_log("egov-sso-admin: token endpoint answered $status");
        egov_sso_die('The SSO did not accept the authorization code.', 403);
    }
    $id_claims = egov_sso_id_token_claims($config, $token['id_token'], (string) $flow['nonce']);
    if ($id_claims === null) {
        egov_sso_die('The ID token of the SSO failed its checks (issuer, audience, expiry or nonce).', 403);
    }
    [$status, $userinfo, $error] = egov_sso_http($config, $config['userinfo_endpoint'], null,
        ['Authorization: Bearer ' . $token['access_token']]);
    if ($status !== 200 || !is_array($userinfo) || ($userinfo['sub'] ?? null) !== $id_claims['sub']) {
        error_log("egov-sso-admin: userinfo answered $status $error");
        egov_sso_die('The SSO did not return the official\'s attributes.', 403);
    }
    $uid = (string) $userinfo['sub'];
    if (preg_match('/^[a-z0-9][a-z0-9._-]{0,59}$/', $uid) !== 1 || sanitize_user($uid, true) !== $uid) {
        egov_sso_die('The SSO returned an identifier that is not an official\'s uid.', 403);
    }
    $email = is_string($userinfo['email'] ?? null) && is_email($userinfo['email']) ? $userinfo['email'] : '';
    $name = is_string($userinfo['name'] ?? null) ? sanitize_text_field($userinfo['name']) : '';
    $user = egov_sso_user($uid, $email, $name);
    update_user_meta($user->ID, EGOV_SSO_UNIT_META, egov_sso_units_of($userinfo, (string) $config['unit_claim']));
    egov_sso_sync_role($user, $config);
    wp_set_current_user($user->ID);
    wp_set_auth_cookie($user->ID, false, true);
    do_action('wp_login', $user->user_login, $user);
    wp_safe_redirect(wp_validate_redirect((string) $flow['redirect_to'], admin_url()));
    exit;
}

/** wp-login.php: the SSO flow instead of the password form; a few actions keep their own handling. */
function egov_sso_login_init(): void
{
    $action = egov_sso_param($_REQUEST, 'action') ?: 'login';
    if (in_array($action, ['logout', 'postpass', 'confirmaction'], true)) {
        return;
    }
    if (in_array($action, ['lostpassword', 'retrievepass', 'resetpass', 'rp', 'register'], true)
        || $_SERVER['REQUEST_METHOD'] !== 'GET') {
        egov_sso_die('Password sign-in is disabled: administration goes through the province SSO.', 403);
    }
    if (isset($_GET['loggedout'])) {
        wp_safe_redirect(home_url('/'));                            // no silent re-login after a logout
        exit;
    }
    $config = egov_sso_config();
    if ($config === null) {
        egov_sso_die('Sign-in through the SSO is not configured on this node.', 503);
    }
    if (isset($_GET['state'])) {
        egov_sso_callback($config);
    }
    egov_sso_start($config);
}

/** Every wp-admin page: officials of the owning unit only (403 for anyone else, super admins too). */
function egov_sso_admin_gate(): void
{
    if (wp_doing_ajax() || !is_user_logged_in()) {
        return;
    }
    $config = egov_sso_config();
    if ($config === null || !egov_sso_sync_role(wp_get_current_user(), $config)) {
        egov_sso_die('Only officials of the unit that owns this site may administer it.', 403);
    }
}

/** Every request of a signed-in user: the role on this site follows the unit (a cookie serves every site). */
function egov_sso_init(): void
{
    if (!is_user_logged_in()) {
        return;
    }
    $config = egov_sso_config();
    if ($config !== null) {
        egov_sso_sync_role(wp_get_current_user(), $config);
    }
}

/** No password is ever accepted, whatever the entry point (wp-login.php, XML-RPC, wp_signon). */
function egov_sso_refuse_passwords($user, $username, $password): WP_Error
{
    return new WP_Error('egov_sso_only', __('Password sign-in is disabled: use the province SSO.'));
}

add_filter('authenticate', 'egov_sso_refuse_passwords', PHP_INT_MAX, 3);
add_filter('wp_is_application_passwords_available', '__return_false');
add_filter('allow_password_reset', '__return_false');
add_filter('xmlrpc_enabled', '__return_false');
add_filter('auth_cookie_expiration', static function (): int {
    $config = egov_sso_config();
    return max(1, (int) ($config['session_hours'] ?? 8)) * HOUR_IN_SECONDS;
});
add_filter('logout_redirect', static function (): string {
    return home_url('/');
});
add_action('login_init', 'egov_sso_login_init', 0);
add_action('admin_init', 'egov_sso_admin_gate', 0);
add_action('init', 'egov_sso_init', 0);
