"""The lab: a local province of systemd-nspawn hosts in network namespaces, reached over SSH."""
