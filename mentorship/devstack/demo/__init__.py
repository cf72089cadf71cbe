"""The demo institution: a seeded plan of two years of HR and program activity, played through the real services.

``plan`` is pure (same seed, same plan); ``driver`` executes it over HTTP and the HR topic while steering
the services' dev clock (``shared.clock.DevClock``); ``settle`` tells when the services have caught up.
"""

from mentorship.devstack.demo.plan import SCALES, Action, Plan, Scale, generate

__all__ = ["SCALES", "Action", "Plan", "Scale", "generate"]
