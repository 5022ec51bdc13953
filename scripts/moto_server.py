"""moto's server, as `moto_server` runs it, with three faults of moto 5.2.5 mended
for a test run that writes a lot, from many clients at once.

1. moto keeps every model instance it ever creates in a list of its class (for
   its dashboard, `/moto-api/data.json`), deleted ones included, and never lets
   them go: over one run of the test command that held every version of every
   DynamoDB item and S3 object written (8.8 GB after 25 minutes), and each read
   of `data.json` (the tests' only way to see what SES accepted) serialised all
   of it, for minutes. Here only SES's models are listed.
2. Requests run on threads, but moto's state is plain dictionaries: a read of a
   missing key adds one (`defaultdict`), so two requests at once fail with
   "dictionary changed size during iteration" (an HTML error page the SDK cannot
   read). Here requests take turns; moto computes under one interpreter lock
   anyway.
3. `TransactWriteItems` backs up every table it names by deep-copying it whole,
   once per item of the transaction (up to 100 copies of a table of thousands of
   items), and restores the copy when the transaction is cancelled, losing what
   other requests wrote meanwhile. Here the items the transaction names are kept
   instead, and put back on a cancellation.

Usage: python moto_server.py -H 127.0.0.1 -p PORT (the arguments of moto_server).
"""

import copy
import sys
import threading

from moto.core.common_models import BaseModel


def _new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if cls.__module__.startswith("moto.ses"):
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = _new

# noqa: E402 below: the patch above must come before moto imports its models.
from moto import server  # noqa: E402
from moto.dynamodb.models import DynamoDBBackend  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402

_turn = threading.Lock()


class _OneAtATime:
    """The WSGI application, one request at a time (its whole body included)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with _turn:
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()


_run_simple = server.run_simple


def _run_simple_in_turns(host, port, app, **options):
    _run_simple(host, port, _OneAtATime(app), **options)


server.run_simple = _run_simple_in_turns


class _Untouched:
    """What moto's transaction takes for a table's backup: the items it names are
    kept instead (see `_transact_write_items`)."""


_UNTOUCHED = _Untouched()
_transact = DynamoDBBackend.transact_write_items


def _named_items(backend, transact_items):
    """(table, hash, range) of each item the transaction names, as moto reads them."""
    named = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            key = op["Item"] if "Item" in op else op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except Exception:  # moto refuses it itself
            continue
        named.append((table, hash_value, range_value))
    return named


def _transact_write_items(self, transact_items):
    kept = [
        (table, h, r, copy.deepcopy(table.get_item(h, r)))
        for table, h, r in _named_items(self, transact_items)
    ]
    tables = dict(self.tables)
    Table.__deepcopy__ = lambda table, memo: _UNTOUCHED
    try:
        return _transact(self, transact_items)
    except BaseException:
        for name, table in tables.items():
            if self.tables.get(name) is _UNTOUCHED:
                self.tables[name] = table
        for table, h, r, item in reversed(kept):
            if r is None:
                if item is None:
                    table.items.pop(h, None)
                else:
                    table.items[h] = item
            elif item is None:
                table.items[h].pop(r, None)
            else:
                table.items[h][r] = item
        raise
    finally:
        del Table.__deepcopy__


DynamoDBBackend.transact_write_items = _transact_write_items

server.main(sys.argv[1:])
