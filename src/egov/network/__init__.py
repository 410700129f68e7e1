"""Network automation: render, diff, push, verify and roll back every switch and firewall of the province."""
