"""moto's server, as `moto_server` runs it, remembering only what the tests read back.

moto keeps every model instance it ever creates in a list of its class (for its
dashboard, `/moto-api/data.json`), deleted ones included, and never lets them go.
Over one run of the test command that held every version of every DynamoDB item
and every S3 object written, 8 GB after 25 minutes, and each read of
`data.json` (the tests' only way to see what SES accepted) had to serialise all
of it: the SES tests took minutes. Here only SES's models are listed; everything
else lives and goes as the service says.

Usage: python moto_server.py -H 127.0.0.1 -p PORT (the arguments of moto_server).
"""

import sys

from moto.core.common_models import BaseModel


def _new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if cls.__module__.startswith("moto.ses"):
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = _new

from moto.server import main  # noqa: E402  (after the patch, as the server imports models)

main(sys.argv[1:])
