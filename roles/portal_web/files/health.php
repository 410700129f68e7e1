<?php
// Installed by Ansible (role portal_web): the balancer's health check. 200 "ok" only when PHP runs and
// one of the Galera members answers a query on the network's tables; 503 otherwise (the node leaves the pool).
header('Cache-Control: no-store');
header('Content-Type: text/plain');
$config = getenv('EGOV_PORTAL_CONFIG') ?: '';
if ($config === '' || !is_readable($config)) {
    http_response_code(503);
    exit("no config\n");
}
define('EGOV_PORTAL_HEALTH', true);
$table_prefix = 'wp_';
require $config;
mysqli_report(MYSQLI_REPORT_OFF);
$connected = false;
foreach (defined('EGOV_DB_HOSTS') ? EGOV_DB_HOSTS : [DB_HOST] as $member) {     // as WP_CONTENT_DIR/db.php
    $db = mysqli_init();
    $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 2);
    [$host, $port] = array_pad(explode(':', $member, 2), 2, '3306');
    if (@$db->real_connect($host, DB_USER, DB_PASSWORD, DB_NAME, (int) $port)) {
        $connected = true;
        break;
    }
}
if (!$connected) {
    http_response_code(503);
    exit("database down\n");
}
$result = $db->query('SELECT COUNT(*) FROM `' . $table_prefix . 'options`');
if ($result === false) {
    http_response_code(503);
    exit("database not ready\n");
}
echo "ok\n";
