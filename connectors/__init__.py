"""Ticket-tool connectors: Zammad, Znuny, Jira Service Management and GLPI on one protocol."""
