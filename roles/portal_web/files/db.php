<?php
// Installed by Ansible (role portal_web): WordPress's database drop-in (WP_CONTENT_DIR/db.php). The same
// wpdb, connected to the first Galera member that accepts (EGOV_DB_HOSTS of the network configuration,
// this node's own member first), so a member that dies leaves no web node without its database. Only
// a failed connection costs a second attempt; nginx refuses to serve PHP files under /wp-content/.
defined('ABSPATH') || exit;
if (defined('EGOV_DB_HOSTS') && is_array(EGOV_DB_HOSTS) && count(EGOV_DB_HOSTS) > 1) {
    class Egov_Failover_Wpdb extends wpdb
    {
        public function db_connect($allow_bail = true)
        {
            foreach (EGOV_DB_HOSTS as $host) {
                $this->dbhost = $host;
                if (parent::db_connect(false)) {
                    return true;
                }
            }
            $this->dbhost = EGOV_DB_HOSTS[0];      // none answers: WordPress's own error, naming the first
            return parent::db_connect($allow_bail);
        }
    }
    $wpdb = new Egov_Failover_Wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
}
