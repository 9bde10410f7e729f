# INSERT, INSERT OVERWRITE, CTAS, DELETE, UPDATE, MERGE, DDL, history,
# restore, errors that leave tables unchanged.

statement ok
CREATE TABLE t (id BIGINT NOT NULL, v STRING, n DOUBLE) COMMENT 'test table' TBLPROPERTIES ('delta.appendOnly' = 'false', 'team' = 'x')

statement ok
INSERT INTO t VALUES (1, 'a', 1.0), (2, 'b', 2.0), (3, 'c', 3.0)

statement ok
INSERT INTO t (id, v) SELECT id + 10, v || '!' FROM t

query
SELECT * FROM t ORDER BY id
----
id	v	n
1	a	1
2	b	2
3	c	3
11	a!	NULL
12	b!	NULL
13	c!	NULL

statement ok
DELETE FROM t WHERE id > 10 AND n IS NULL AND id <> 12

query
SELECT id FROM t ORDER BY id
----
id
1
2
3
12

statement ok
UPDATE t SET n = n * 10, v = upper(v) WHERE id <= 2

query
SELECT * FROM t ORDER BY id
----
id	v	n
1	A	10
2	B	20
3	c	3
12	b!	NULL

statement ok
CREATE TABLE src AS SELECT * FROM (VALUES (2, 'B2', 0.5), (4, 'd', 4.0), (12, 'gone', 0.0)) s(id, v, n)

statement ok
MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED AND s.v = 'gone' THEN DELETE WHEN MATCHED THEN UPDATE SET v = s.v, n = s.n WHEN NOT MATCHED THEN INSERT *

query
SELECT * FROM t ORDER BY id
----
id	v	n
1	A	10
2	B2	0.5
3	c	3
4	d	4

statement ok
DESCRIBE HISTORY t

statement error
INSERT INTO t VALUES (NULL, 'x', 1.0)
----
SQL_ERROR: Invalid Input Error: NOT NULL constraint violated: column id of main.default.t cannot be NULL

statement error
INSERT INTO t VALUES (1, 2)
----
INSERT_COLUMN_ARITY_MISMATCH: cannot write to main.default.t: the table has 3 columns but the query produces 2

statement error
INSERT INTO t (id, nosuch) VALUES (1, 2)
----
UNRESOLVED_COLUMN: column nosuch does not exist in main.default.t (columns: id, v, n)

statement error
UPDATE t SET n = 'not a number' WHERE id = 1
----
SQL_ERROR: Conversion Error: Could not convert string 'not a number' to DOUBLE

statement error
MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET nosuch = 1
----
UNRESOLVED_COLUMN: Binder Error: Referenced update column nosuch not found in table! Did you mean: "n"

query
SELECT count(*) AS n, sum(id) AS s FROM t
----
n	s
4	10

statement ok
INSERT OVERWRITE t SELECT id, v, n FROM src

query
SELECT id FROM t ORDER BY id
----
id
2
4
12

statement ok
RESTORE TABLE t TO VERSION AS OF 1

query
SELECT id FROM t ORDER BY id
----
id
1
2
3

statement ok
ALTER TABLE t ADD COLUMNS (extra INT COMMENT 'new')

query
SELECT id, extra FROM t ORDER BY id
----
id	extra
1	NULL
2	NULL
3	NULL

statement ok
COMMENT ON TABLE t IS 'changed'

query
DESCRIBE TABLE t
----
col_name	data_type	comment
id	bigint	NULL
v	string	NULL
n	double	NULL
extra	int	new

statement ok
DESCRIBE DETAIL t

query
SHOW TABLES
----
database	tableName	isTemporary
default	src	false
default	t	false

statement ok
CREATE CATALOG c2

statement ok
CREATE SCHEMA c2.s2

statement ok
USE CATALOG c2

statement ok
USE SCHEMA s2

statement ok
CREATE TABLE p (k STRING, d DATE, x INT) PARTITIONED BY (k, d)

statement ok
INSERT INTO p VALUES ('a', DATE '2024-01-01', 1), ('b', DATE '2024-01-02', 2), ('a', DATE '2024-01-02', 3), (NULL, NULL, 4)

query
SELECT * FROM p WHERE k = 'a' ORDER BY x
----
k	d	x
a	2024-01-01	1
a	2024-01-02	3

query
SELECT * FROM p WHERE k IS NULL
----
k	d	x
NULL	NULL	4

statement ok
UPDATE p SET x = x + 100 WHERE d = DATE '2024-01-02'

query
SELECT k, x FROM c2.s2.p ORDER BY x
----
k	x
a	1
NULL	4
b	102
a	103

query
SHOW SCHEMAS
----
databaseName
s2

statement ok
DROP TABLE p

statement error
SELECT * FROM p
----
TABLE_OR_VIEW_NOT_FOUND: table or view c2.s2.p was not found

statement ok
OPTIMIZE main.default.t

statement ok
DROP SCHEMA c2.s2 CASCADE
