# Privileges, row filters, column masks, views with owner's rights, and
# attempted bypasses of each.

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

statement error alice
DELETE FROM emp WHERE id = 1
----
PERMISSION_DENIED: DELETE on main.default.emp is not allowed: the table has a row filter or column mask

statement error alice
UPDATE emp SET ssn = 'x'
----
PERMISSION_DENIED: UPDATE on main.default.emp is not allowed: the table has a row filter or column mask

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
