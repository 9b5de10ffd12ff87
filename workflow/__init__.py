"""nhiemvu's engine: plans, tasks, timings, due items, lifecycle and the services that change them.

Nothing in this package imports Flask: the CLI, the scheduler and the web app all call it.
"""
