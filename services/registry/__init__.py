"""The management system (管理系统): personal accounts, the one-time photo, certificates uploaded by
the provincial authority, and recorded continuing-education hours."""
