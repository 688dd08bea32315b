"""repertory's own Dramatiq middleware, one class per module."""

from pools.middleware.heartbeat import Heartbeat
from pools.middleware.job_state import JobState
from pools.middleware.parent_watch import ParentWatch
from pools.middleware.recovery import Recovery
from pools.middleware.recycle import Recycle
from pools.middleware.resources import Resources
from pools.middleware.retries import TypedRetries, durable_results

__all__ = ["Heartbeat", "JobState", "ParentWatch", "Recovery", "Recycle", "Resources",
           "TypedRetries", "durable_results"]
