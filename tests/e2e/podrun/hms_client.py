#!/usr/bin/env python3
"""hms_client.py -- a Hive Metastore Thrift client for tests/e2e/podrun/hive.sh.

  hms_client.py HOST PORT create DB TABLE LOCATION_PREFIX   create database DB and table DB.TABLE
  hms_client.py HOST PORT check DB TABLE LOCATION_PREFIX    read both back and compare every field
                                                            this test set

Uses the metastore's Thrift API (the hive_metastore IDL compiled for Python, from PyPI's
hmsclient-hive-3, API 3.0, which a 4.0 metastore serves) over a plain binary protocol, as Spark or
Trino do without Kerberos. Prints one line per operation ("ok ..." / "FAILED ...") and exits 1 when
one failed. LOCATION_PREFIX is the warehouse URI the database's location must start with.
"""
import sys

from hmsclient import hmsclient
from hmsclient.genthrift.hive_metastore.ttypes import Database, FieldSchema, GetTableRequest, SerDeInfo, StorageDescriptor, Table

COLS = [("id", "bigint"), ("name", "string"), ("amount", "decimal(10,2)")]


def table(db, name):
    sd = StorageDescriptor(
        cols=[FieldSchema(name=n, type=t, comment="") for n, t in COLS],
        inputFormat="org.apache.hadoop.mapred.TextInputFormat",
        outputFormat="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serdeInfo=SerDeInfo(serializationLib="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", parameters={"field.delim": ","}),
        compressed=False, numBuckets=-1, bucketCols=[], sortCols=[], parameters={})
    return Table(tableName=name, dbName=db, owner="bdp-e2e", sd=sd, partitionKeys=[],
                 tableType="EXTERNAL_TABLE", parameters={"EXTERNAL": "TRUE", "bdp.e2e": "hive.sh"})


def main():
    host, port, op, db, tbl, prefix = sys.argv[1:7]
    failed = 0

    def report(ok, what):
        nonlocal failed
        print(("ok     " if ok else "FAILED ") + what, flush=True)
        failed += 0 if ok else 1

    def attempt(what, f):
        """f() -> (ok, detail); an exception is a failed operation"""
        try:
            ok, detail = f()
        except Exception as e:  # a Thrift or socket error counts as a failed operation
            ok, detail = False, f"{type(e).__name__}: {e}"
        report(ok, f"{what}: {detail}")

    def get_db():
        d = c.get_database(db)
        return (d.name == db and d.description == "bdp e2e" and (d.parameters or {}).get("bdp.e2e") == "hive.sh"
                and (d.locationUri or "").startswith(prefix)), f"location={d.locationUri} parameters={d.parameters}"

    def get_tbl():
        # get_table_req: Hive 4 dropped the old get_table call
        t = c.get_table_req(GetTableRequest(dbName=db, tblName=tbl)).table
        cols = [(f.name, f.type) for f in t.sd.cols]
        return t.tableName == tbl and cols == COLS and t.parameters.get("bdp.e2e") == "hive.sh", f"columns={cols}"

    try:
        c = hmsclient.HMSClient(host=host, port=int(port))
        c.open()
    except Exception as e:  # no connection: every operation of this run failed
        report(False, f"connect to {host}:{port}: {type(e).__name__}: {e}")
        print(f"client: {failed} failed", flush=True)
        sys.exit(1)
    try:
        if op == "create":
            attempt(f"create database {db}", lambda: (c.create_database(Database(name=db, description="bdp e2e", parameters={"bdp.e2e": "hive.sh"})) is None, "done"))
            attempt(f"create table {db}.{tbl}", lambda: (c.create_table(table(db, tbl)) is None, "done"))
        attempt(f"get database {db}", get_db)
        attempt(f"get table {db}.{tbl}", get_tbl)
        attempt(f"list tables of {db}", lambda: (tbl in c.get_all_tables(db), str(c.get_all_tables(db))))
        attempt("list databases", lambda: (db in c.get_all_databases(), str(c.get_all_databases())))
    finally:
        c.close()
    print(f"client: {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
