# Privileges, row filters, column masks, views with owner's rights, and
# attempted bypasses of each. DELETE, UPDATE and MERGE act on the table as
# the writer sees it: rows the row filter hides are neither changed nor
# evaluated, masked columns read masked (file pruning included), and what
# a statement does not assign is written back raw; the owner checks each.

statement ok
CREATE TABLE emp (id INT, name STRING, dept STRING, ssn STRING)

statement ok
INSERT INTO emp VALUES (1, 'ann', 'eng', '111-11-1111'), (2, 'bob', 'ops', '222-22-2222'), (3, 'cid', 'eng', '333-33-3333')

statement error alice
SELECT * FROM emp
----
PERMISSION_DENIED: alice has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement ok
GRANT USE CATALOG ON CATALOG main TO analysts

statement error alice
SELECT * FROM emp
----
PERMISSION_DENIED: alice has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement ok
GRANT USE SCHEMA ON SCHEMA main.default TO analysts

statement error alice
SELECT * FROM emp
----
PERMISSION_DENIED: alice has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement ok
GRANT SELECT ON TABLE emp TO analysts

query alice
SELECT count(*) AS n FROM emp
----
n
3

statement error alice
INSERT INTO emp VALUES (9, 'x', 'x', 'x')
----
PERMISSION_DENIED: alice does not have MODIFY on table 'main.default.emp'

statement error bob
SELECT * FROM emp
----
PERMISSION_DENIED: bob has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement ok
CREATE FUNCTION eng_only(d STRING) RETURNS BOOLEAN RETURN is_account_group_member('admins') OR d = 'eng'

statement ok
CREATE FUNCTION mask_ssn(s STRING) RETURNS STRING RETURN CASE WHEN is_account_group_member('admins') THEN s ELSE '***-**-' || right(s, 4) END

statement ok
ALTER TABLE emp SET ROW FILTER eng_only ON (dept)

statement ok
ALTER TABLE emp ALTER COLUMN ssn SET MASK mask_ssn

query alice
SELECT id, name, ssn FROM emp ORDER BY id
----
id	name	ssn
1	ann	***-**-1111
3	cid	***-**-3333

query
SELECT id, ssn FROM emp ORDER BY id
----
id	ssn
1	111-11-1111
2	222-22-2222
3	333-33-3333

query alice
SELECT id FROM emp WHERE ssn = '111-11-1111'
----
id

query alice
WITH x AS (SELECT * FROM emp) SELECT count(*) AS n, max(ssn) AS m FROM (SELECT * FROM x) y
----
n	m
2	***-**-3333

query alice
SELECT id, ssn FROM emp VERSION AS OF 1 ORDER BY id
----
id	ssn
1	***-**-1111
3	***-**-3333

statement error alice
SELECT * FROM read_parquet('/tmp/x/*.parquet')
----
PERMISSION_DENIED: read_parquet may only read files in a volume (/Volumes/<catalog>/<schema>/<volume>/...); query tables by name

statement error alice
SELECT * FROM parquet_scan('/etc/passwd')
----
PERMISSION_DENIED: parquet_scan may only read files in a volume (/Volumes/<catalog>/<schema>/<volume>/...); query tables by name

statement error alice
SELECT * FROM read_csv('/etc/passwd')
----
PERMISSION_DENIED: read_csv may only read files in a volume (/Volumes/<catalog>/<schema>/<volume>/...); query tables by name

statement error alice
SELECT * FROM glob('/*')
----
PERMISSION_DENIED: table function glob is not allowed: Lakebox SQL reads tables by name and files only through volumes

statement error alice
SELECT * FROM query('SELECT 1')
----
PERMISSION_DENIED: table function query is not allowed: Lakebox SQL reads tables by name and files only through volumes

statement error alice
SELECT * FROM duckdb_settings()
----
PERMISSION_DENIED: table function duckdb_settings is not allowed: Lakebox SQL reads tables by name and files only through volumes

statement error alice
SELECT current_setting('allowed_directories')
----
PERMISSION_DENIED: function current_setting is not allowed

statement error alice
SELECT getenv('HOME')
----
PERMISSION_DENIED: function getenv is not allowed

statement error alice
SELECT main.getenv('HOME')
----
SCHEMA_NOT_FOUND: schema "main.main" does not exist

statement error alice
SELECT * FROM '/etc/passwd'
----
INVALID_ARGUMENT: invalid table name "/etc/passwd": names may not contain periods, spaces, slashes, backticks, backslashes or control characters

statement error alice
SELECT * FROM information_schema.tables
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.information_schema.tables was not found

statement error alice
SELECT * FROM lbx_dv_1
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.lbx_dv_1 was not found

statement error alice
ATTACH '/tmp/x.db' AS x
----
PERMISSION_DENIED: ATTACH statements are not allowed in Lakebox SQL

statement error alice
INSTALL httpfs
----
PERMISSION_DENIED: INSTALL statements are not allowed in Lakebox SQL

statement error alice
LOAD httpfs
----
PERMISSION_DENIED: LOAD statements are not allowed in Lakebox SQL

statement error alice
SET enable_external_access = true
----
PERMISSION_DENIED: SET statements are not allowed in Lakebox SQL

statement error alice
PRAGMA database_list
----
PERMISSION_DENIED: PRAGMA statements are not allowed in Lakebox SQL

statement error alice
COPY (SELECT * FROM emp) TO '/tmp/leak.parquet'
----
PERMISSION_DENIED: COPY statements are not allowed in Lakebox SQL

statement error alice
CALL pragma_version()
----
PERMISSION_DENIED: CALL statements are not allowed in Lakebox SQL

statement error alice
EXPORT DATABASE '/tmp/x'
----
PERMISSION_DENIED: EXPORT statements are not allowed in Lakebox SQL

statement error alice
CREATE MACRO current_user() AS 'admin'
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 8: expected CATALOG, SCHEMA, TABLE, VIEW or FUNCTION after CREATE

statement error alice
SELECT 1; SET threads = 1
----
PERMISSION_DENIED: SET statements are not allowed in Lakebox SQL

statement ok
CREATE VIEW eng_people AS SELECT id, name, ssn FROM emp

statement ok
GRANT USE CATALOG ON CATALOG main TO bob

statement ok
GRANT USE SCHEMA ON SCHEMA main.default TO bob

statement ok
GRANT SELECT ON TABLE eng_people TO bob

query bob
SELECT * FROM eng_people ORDER BY id
----
id	name	ssn
1	ann	***-**-1111
3	cid	***-**-3333

statement error bob
SELECT * FROM emp
----
PERMISSION_DENIED: bob has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement ok
GRANT MODIFY ON TABLE emp TO analysts

query alice
DELETE FROM emp WHERE id = 2
----
num_affected_rows
0

query alice
DELETE FROM emp WHERE ssn = '222-22-2222' OR ssn = '111-11-1111'
----
num_affected_rows
0

query alice
DELETE FROM emp WHERE CASE WHEN dept = 'ops' THEN error('an ops row exists') ELSE false END
----
num_affected_rows
0

query alice
UPDATE emp SET name = 'x' WHERE id = 2 OR ssn LIKE '1%'
----
num_affected_rows
0

query alice
UPDATE emp SET name = upper(name) WHERE ssn = '***-**-1111'
----
num_affected_rows
1

query alice
UPDATE emp SET name = ssn, dept = dept WHERE id = 3
----
num_affected_rows
1

query alice
UPDATE emp SET dept = dept
----
num_affected_rows
2

query
SELECT * FROM emp ORDER BY id
----
id	name	dept	ssn
1	ANN	eng	111-11-1111
2	bob	ops	222-22-2222
3	***-**-3333	eng	333-33-3333

query alice
SELECT * FROM emp ORDER BY id
----
id	name	dept	ssn
1	ANN	eng	***-**-1111
3	***-**-3333	eng	***-**-3333

query alice
UPDATE emp SET ssn = '999-99-9999' WHERE name = 'ANN'
----
num_affected_rows
1

query
SELECT id, name, ssn FROM emp ORDER BY id
----
id	name	ssn
1	ANN	999-99-9999
2	bob	222-22-2222
3	***-**-3333	333-33-3333

query alice
SELECT id, name, ssn FROM emp ORDER BY id
----
id	name	ssn
1	ANN	***-**-9999
3	***-**-3333	***-**-3333

statement ok
CREATE TABLE emp_src (id INT, name STRING, dept STRING, ssn STRING)

statement ok
INSERT INTO emp_src VALUES (1, 'ann2', 'eng', '444-44-4444'), (2, 'bob2', 'eng', '555-55-5555')

statement ok
GRANT SELECT ON TABLE emp_src TO analysts

query alice
MERGE INTO emp t USING (SELECT 2 AS id) s ON t.id = s.id AND (t.dept <> 'ops' OR error('row 2 is in ops')) WHEN MATCHED THEN DELETE
----
num_affected_rows
0

query alice
MERGE INTO emp t USING (SELECT '111-11-1111' AS k) s ON t.ssn = s.k WHEN MATCHED THEN UPDATE SET name = 'found'
----
num_affected_rows
0

query alice
MERGE INTO emp t USING emp_src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *
----
num_affected_rows
2

query
SELECT id, name, dept, ssn FROM emp ORDER BY id, name
----
id	name	dept	ssn
1	ann2	eng	444-44-4444
2	bob	ops	222-22-2222
2	bob2	eng	555-55-5555
3	***-**-3333	eng	333-33-3333

query alice
MERGE INTO emp t USING emp_src s ON t.id = s.id AND s.name = 'ann2' WHEN MATCHED THEN UPDATE SET name = t.ssn WHEN NOT MATCHED BY SOURCE THEN DELETE
----
num_affected_rows
3

query
SELECT id, name, dept, ssn FROM emp ORDER BY id, name
----
id	name	dept	ssn
1	***-**-4444	eng	444-44-4444
2	bob	ops	222-22-2222

query alice
SELECT id, name, dept, ssn FROM emp ORDER BY id, name
----
id	name	dept	ssn
1	***-**-4444	eng	***-**-4444

query alice
INSERT INTO emp VALUES (5, 'eve', 'ops', '666-66-6666')
----
num_affected_rows	num_inserted_rows
1	1

query alice
SELECT count(*) AS n FROM emp
----
n
1

query
SELECT count(*) AS n FROM emp WHERE dept = 'ops'
----
n
2

statement error alice
UPDATE emp SET id = 'not a number'
----
SQL_ERROR: Conversion Error: Could not convert string 'not a number' to INT32

statement error alice
DELETE FROM emp WHERE __lbx_vis
----
INVALID_IDENTIFIER: DELETE may not refer to __lbx_vis: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error alice
UPDATE emp SET name = __lbx_raw_3
----
INVALID_IDENTIFIER: UPDATE may not refer to __lbx_raw_3: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error alice
UPDATE emp SET name = "__LBX_FILE" WHERE id = 1
----
INVALID_IDENTIFIER: UPDATE may not refer to "__LBX_FILE": names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error alice
UPDATE emp t SET name = 'x', __lbx_set_3 = true
----
INVALID_IDENTIFIER: UPDATE may not refer to __lbx_set_3: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error alice
DELETE FROM emp WHERE id IN (SELECT __lbx_row FROM __lbx_raw)
----
INVALID_IDENTIFIER: DELETE may not refer to __lbx_row: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error alice
MERGE INTO emp t USING emp_src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = t.__lbx_file
----
INVALID_IDENTIFIER: MERGE may not refer to __lbx_file: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error
DELETE FROM emp_src WHERE __lbx_file LIKE '%.parquet'
----
INVALID_IDENTIFIER: DELETE may not refer to __lbx_file: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error
UPDATE emp_src AS x SET name = x."__Lbx_File"
----
INVALID_IDENTIFIER: UPDATE may not refer to "__Lbx_File": names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns

statement error alice
SELECT __lbx_file FROM emp
----
UNRESOLVED_COLUMN: Binder Error: Referenced column "__lbx_file" not found in FROM clause! Candidate bindings: "dept"

query
SELECT id, name, dept, ssn FROM emp ORDER BY id, name
----
id	name	dept	ssn
1	***-**-4444	eng	444-44-4444
2	bob	ops	222-22-2222
5	eve	ops	666-66-6666

statement ok
CREATE TABLE pay (id INT, dept STRING, salary INT)

statement ok
INSERT INTO pay VALUES (1, 'eng', 100), (2, 'ops', 200)

statement ok
CREATE FUNCTION mask_pay(s INT, d STRING) RETURNS INT RETURN CASE WHEN is_account_group_member('admins') OR d = 'eng' THEN s END

statement ok
ALTER TABLE pay ALTER COLUMN salary SET MASK mask_pay USING COLUMNS (dept)

statement ok
GRANT SELECT ON TABLE pay TO analysts

statement ok
GRANT MODIFY ON TABLE pay TO analysts

query alice
UPDATE pay SET id = id * 10 WHERE salary IS NULL
----
num_affected_rows
1

query alice
UPDATE pay SET dept = 'ops' WHERE id = 1
----
num_affected_rows
1

query
SELECT * FROM pay ORDER BY id
----
id	dept	salary
1	ops	100
20	ops	200

query alice
SELECT * FROM pay ORDER BY id
----
id	dept	salary
1	ops	NULL
20	ops	NULL

statement error alice
GRANT SELECT ON TABLE emp TO bob
----
PERMISSION_DENIED: alice is not the owner of table 'main.default.emp' and does not have MANAGE on it

query
SHOW GRANTS ON TABLE emp
----
principal	action_type	object_type	object_key
analysts	MODIFY	TABLE	main.default.emp
analysts	SELECT	TABLE	main.default.emp
