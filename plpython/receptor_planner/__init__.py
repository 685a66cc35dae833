"""Receptor Planner: job lines for junior doctors, generated with CP-SAT.

The core (instance, rules, model, solve, solution, checker) never imports
``plpy``; ``receptor_planner.pg`` is the one adapter that does.
"""
__version__ = "0.1.0"
