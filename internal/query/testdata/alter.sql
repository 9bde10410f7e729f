# ALTER TABLE ADD COLUMNS / RENAME COLUMN keep the catalog's columns in
# step with the Delta schema: comments, column masks (and their USING
# columns) and the row filter follow renamed columns.

statement ok
CREATE TABLE emp (id INT COMMENT 'key', name STRING, dept STRING, ssn STRING COMMENT 'tax id')

statement ok
INSERT INTO emp VALUES (1, 'ann', 'eng', '111-11-1111'), (2, 'bob', 'ops', '222-22-2222'), (3, 'cid', 'eng', '333-33-3333')

statement ok
GRANT USE CATALOG ON CATALOG main TO analysts

statement ok
GRANT USE SCHEMA ON SCHEMA main.default TO analysts

statement ok
GRANT SELECT ON TABLE emp TO analysts

statement ok
CREATE FUNCTION eng_only(d STRING) RETURNS BOOLEAN RETURN is_account_group_member('admins') OR d = 'eng'

statement ok
CREATE FUNCTION mask_ssn(s STRING) RETURNS STRING RETURN CASE WHEN is_account_group_member('admins') THEN s ELSE '***-**-' || right(s, 4) END

statement ok
CREATE FUNCTION mask_name(n STRING, d STRING) RETURNS STRING RETURN CASE WHEN is_account_group_member('admins') THEN n ELSE d || ':' || left(n, 1) END

statement ok
ALTER TABLE emp SET ROW FILTER eng_only ON (dept)

statement ok
ALTER TABLE emp ALTER COLUMN ssn SET MASK mask_ssn

statement ok
ALTER TABLE emp ALTER COLUMN name SET MASK mask_name USING COLUMNS (dept)

statement ok
ALTER TABLE emp ADD COLUMNS (age INT COMMENT 'years', city STRING)

statement ok
ALTER TABLE emp ADD COLUMN note STRING COMMENT 'free text'

query
DESCRIBE TABLE emp
----
col_name	data_type	comment
id	int	key
name	string	NULL
dept	string	NULL
ssn	string	tax id
age	int	years
city	string	NULL
note	string	free text

statement error
ALTER TABLE emp ADD COLUMNS (age INT)
----
COLUMN_ALREADY_EXISTS: column age already exists in main.default.emp

query alice
SELECT id, name, dept, ssn, age FROM emp ORDER BY id
----
id	name	dept	ssn	age
1	eng:a	eng	***-**-1111	NULL
3	eng:c	eng	***-**-3333	NULL

statement error
ALTER TABLE emp RENAME COLUMN ssn TO tax_id
----
DELTA_UNSUPPORTED_RENAME_COLUMN: renaming a column needs column mapping: ALTER TABLE main.default.emp SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name') first

statement ok
ALTER TABLE emp SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name')

statement ok
ALTER TABLE emp RENAME COLUMN ssn TO tax_id

statement ok
ALTER TABLE emp RENAME COLUMN dept TO team

query
DESCRIBE TABLE emp
----
col_name	data_type	comment
id	int	key
name	string	NULL
team	string	NULL
tax_id	string	tax id
age	int	years
city	string	NULL
note	string	free text

query alice
SELECT * FROM emp ORDER BY id
----
id	name	team	tax_id	age	city	note
1	eng:a	eng	***-**-1111	NULL	NULL	NULL
3	eng:c	eng	***-**-3333	NULL	NULL	NULL

query alice
SELECT count(*) AS n FROM emp WHERE tax_id = '111-11-1111'
----
n
0

# Time travel to before the renames: the policies follow the columns
# (matched by physical name), not the names they had then.
query alice
SELECT * FROM emp VERSION AS OF 1 ORDER BY id
----
id	name	dept	ssn
1	eng:a	eng	***-**-1111
3	eng:c	eng	***-**-3333

query alice
SELECT count(*) AS n FROM emp VERSION AS OF 1 WHERE ssn = '111-11-1111'
----
n
0

query alice
SELECT id, ssn FROM emp@v4 WHERE ssn LIKE '%1111' ORDER BY id
----
id	ssn
1	***-**-1111

query
SELECT id, ssn FROM emp VERSION AS OF 1 ORDER BY id
----
id	ssn
1	111-11-1111
2	222-22-2222
3	333-33-3333

query
SELECT id, name, team, tax_id FROM emp ORDER BY id
----
id	name	team	tax_id
1	ann	eng	111-11-1111
2	bob	ops	222-22-2222
3	cid	eng	333-33-3333

statement error
ALTER TABLE emp RENAME COLUMN ssn TO tax_id
----
COLUMN_ALREADY_EXISTS: column tax_id already exists in main.default.emp

statement error
ALTER TABLE emp ALTER COLUMN ssn DROP MASK
----
INVALID_ARGUMENT: column "ssn" does not exist in table main.default.emp

statement ok
INSERT INTO emp (id, name, team, tax_id, age) VALUES (4, 'dee', 'eng', '444-44-4444', 40)

query alice
SELECT id, name, tax_id, age FROM emp ORDER BY id
----
id	name	tax_id	age
1	eng:a	***-**-1111	NULL
3	eng:c	***-**-3333	NULL
4	eng:d	***-**-4444	40

statement ok
ALTER TABLE emp ALTER COLUMN tax_id DROP MASK

statement ok
ALTER TABLE emp RENAME COLUMN name TO full_name

query alice
SELECT id, full_name, tax_id FROM emp ORDER BY id
----
id	full_name	tax_id
1	eng:a	111-11-1111
3	eng:c	333-33-3333
4	eng:d	444-44-4444

statement ok
ALTER TABLE emp ALTER COLUMN tax_id COMMENT 'renamed tax id'

statement ok
CREATE TABLE t2 (a INT, s STRING) TBLPROPERTIES ('delta.columnMapping.mode' = 'name')

statement ok
INSERT INTO t2 VALUES (1, 'x')

statement ok
ALTER TABLE t2 ADD COLUMNS (c INT COMMENT 'added')

statement ok
INSERT INTO t2 VALUES (2, 'y', 20)

statement ok
ALTER TABLE t2 RENAME COLUMN c TO c2

statement ok
ALTER TABLE t2 RENAME COLUMN a TO a2

statement ok
INSERT INTO t2 VALUES (3, 'z', 30)

query
SELECT * FROM t2 ORDER BY a2
----
a2	s	c2
1	x	NULL
2	y	20
3	z	30

query
DESCRIBE TABLE t2
----
col_name	data_type	comment
a2	int	NULL
s	string	NULL
c2	int	added
