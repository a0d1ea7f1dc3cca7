import environ

_env = environ.Env()

# The channel layer shares the Redis of the cache and the broker (its own key prefix).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [_env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")],
            "prefix": "tenantry-channels",
            "capacity": 1000,
            "expiry": 30,
        },
    }
}
