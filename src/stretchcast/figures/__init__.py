"""Figures: each exercise drawn from its poses (content/poses.py), still and moving.

``body`` is the 3D body (segment lengths from Winter's anthropometric table, forward kinematics),
``motion`` blends the keyframed poses over time, ``draw`` projects and draws the pictogram as SVG
and PNG, ``checks`` measures the movement (what the tests assert), ``page`` prepares the frames the
phone page moves in time with the voice. Above content, below the faces: never imports cli,
notebook or serve.
"""
