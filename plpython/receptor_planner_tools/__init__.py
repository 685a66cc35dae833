"""Receptor Planner's tools: the ``planner`` command, the local cluster, the demo, the
benchmark and the instance generator. They stand beside the core package
(``receptor_planner``), which is all the database server stages and imports."""
