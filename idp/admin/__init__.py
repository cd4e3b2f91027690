"""Administration: the console at /admin (idp/admin/console/) and the services behind the
`idp` commands."""
