import environ

_env = environ.Env()

# The channel layer shares the Redis of the cache and the broker (its own key prefix).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py's from_url() takes the unix:///path/redis.socket of the embedded
            # Redis as it is. redis-py 8 gives every connection a 5 s socket timeout, the
            # same as the layer's blocking BZPOPMIN: idle consumers crashed every ~5 s
            # (django/channels_redis#422). The read timeout must exceed that wait.
            "hosts": [
                {
                    "address": _env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"),
                    "socket_timeout": 15,
                    "socket_connect_timeout": 5,
                }
            ],
            "prefix": "tenantry-channels",
            "capacity": 1000,
            "expiry": 30,
        },
    }
}
