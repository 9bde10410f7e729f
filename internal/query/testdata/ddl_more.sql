# SHOW COLUMNS, SHOW CREATE TABLE, SHOW FUNCTIONS, column comments (ALTER
# COLUMN … COMMENT, COMMENT ON COLUMN), SET/UNSET TBLPROPERTIES, ALTER
# TABLE|VIEW … RENAME TO and TRUNCATE TABLE: results, bad input and
# privileges (admin owns everything; analysts get usage and SELECT).

statement ok
CREATE TABLE emp (id INT NOT NULL COMMENT 'key', `Name` STRING, dept STRING, pay DECIMAL(10,2), tags ARRAY<STRING>, addr STRUCT<city: STRING, zip: STRING>, attrs MAP<STRING, INT>) PARTITIONED BY (dept) COMMENT 'the staff' TBLPROPERTIES ('owner.team' = 'hr', 'delta.appendOnly' = 'false')

statement ok
INSERT INTO emp (id, `Name`, dept, pay) VALUES (1, 'ann', 'eng', 10.50), (2, 'bob', 'ops', 20.00), (3, 'cid', 'eng', 30.25)

statement ok
CREATE VIEW eng AS SELECT id, `Name` FROM emp WHERE dept = 'eng'

statement ok
CREATE SCHEMA other

statement ok
GRANT USE CATALOG ON CATALOG main TO analysts

statement ok
GRANT USE SCHEMA ON SCHEMA main.default TO analysts

statement ok
GRANT SELECT ON TABLE emp TO analysts

query alice
SHOW COLUMNS IN main.default.emp
----
col_name
id
Name
dept
pay
tags
addr
attrs

query
SHOW COLUMNS IN eng
----
col_name
id
Name

query
SHOW COLUMNS FROM eng IN default
----
col_name
id
Name

query
SHOW COLUMNS IN default.eng FROM main.default
----
col_name
id
Name

statement error bob
SHOW COLUMNS IN emp
----
PERMISSION_DENIED: bob has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement error
SHOW COLUMNS IN other.emp IN default
----
SHOW_COLUMNS_WITH_CONFLICT_NAMESPACE: SHOW COLUMNS names two schemas: other != default; qualify the table or give IN schema, not both differently

statement error
SHOW COLUMNS IN nosuch
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.nosuch was not found

statement error
SHOW COLUMNS emp
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 14: expected IN or FROM after SHOW COLUMNS, found 'emp'

statement error
SHOW COLUMNS IN emp IN a.b.c
----
INVALID_IDENTIFIER: SHOW COLUMNS … IN takes schema or catalog.schema, got a.b.c

statement ok
ALTER TABLE emp ALTER COLUMN `Name` COMMENT 'full name'

statement ok
COMMENT ON COLUMN emp.dept IS 'department'

statement ok
COMMENT ON COLUMN main.default.emp.id IS NULL

statement error
ALTER TABLE emp ALTER COLUMN nosuch COMMENT 'x'
----
UNRESOLVED_COLUMN: column nosuch does not exist in main.default.emp (columns: id, Name, dept, pay, tags, addr, attrs)

statement error
COMMENT ON COLUMN emp IS 'x'
----
INVALID_IDENTIFIER: COMMENT ON COLUMN takes table.column, schema.table.column or catalog.schema.table.column; got emp

statement error
COMMENT ON COLUMN emp.id IS 42
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 29: expected a string literal, found '42'

statement error alice
COMMENT ON COLUMN emp.pay IS 'salary'
----
PERMISSION_DENIED: alice does not have MODIFY on table 'main.default.emp'

statement error bob
ALTER TABLE emp ALTER COLUMN pay COMMENT 'salary'
----
PERMISSION_DENIED: bob has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement error
COMMENT ON VOLUME v IS 'x'
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 12: expected CATALOG, SCHEMA, TABLE or COLUMN after COMMENT ON

statement ok
ALTER TABLE emp SET TBLPROPERTIES ('a' = '1')

statement ok
ALTER TABLE emp SET TBLPROPERTIES ('b' = '2', 'delta.enableChangeDataFeed' = 'true')

statement ok
ALTER TABLE emp UNSET TBLPROPERTIES ('a', delta.appendOnly)

statement error
ALTER TABLE emp UNSET TBLPROPERTIES ('a')
----
UNSET_NONEXISTENT_PROPERTIES: cannot unset a of main.default.emp: not set (set: b, delta.enableChangeDataFeed, owner.team); UNSET TBLPROPERTIES IF EXISTS ignores missing keys

statement ok
ALTER TABLE emp UNSET TBLPROPERTIES IF EXISTS ('a', 'nosuch')

statement error
ALTER TABLE emp UNSET TBLPROPERTIES ()
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 38: expected a property key such as 'owner.team' or delta.appendOnly, found ')'

statement error
ALTER TABLE emp UNSET TBLPROPERTIES 'a'
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 37: expected (, found ''a''

statement error alice
ALTER TABLE emp UNSET TBLPROPERTIES ('b')
----
PERMISSION_DENIED: alice is not the owner of table 'main.default.emp' and does not have MANAGE on it

statement ok
ALTER TABLE emp SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name')

statement error
ALTER TABLE emp UNSET TBLPROPERTIES ('delta.columnMapping.mode')
----
DELTA_CANNOT_MODIFY_TABLE_PROPERTY: table property delta.columnMapping.mode of main.default.emp cannot be unset: it records how the data files are read or which table features the table uses

statement error
ALTER TABLE emp UNSET TBLPROPERTIES IF EXISTS (delta.columnMapping.maxColumnId)
----
DELTA_CANNOT_MODIFY_TABLE_PROPERTY: table property delta.columnMapping.maxColumnId of main.default.emp cannot be unset: it records how the data files are read or which table features the table uses

query
SHOW CREATE TABLE emp
----
createtab_stmt
CREATE TABLE main.default.emp (
  id INT NOT NULL,
  `Name` STRING COMMENT 'full name',
  dept STRING COMMENT 'department',
  pay DECIMAL(10,2),
  tags ARRAY<STRING>,
  addr STRUCT<city: STRING, zip: STRING>,
  attrs MAP<STRING, INT>)
USING delta
PARTITIONED BY (dept)
COMMENT 'the staff'
TBLPROPERTIES (
  'b' = '2',
  'delta.columnMapping.mode' = 'name',
  'delta.enableChangeDataFeed' = 'true',
  'owner.team' = 'hr')

query
SHOW CREATE TABLE eng
----
createtab_stmt
CREATE VIEW main.default.eng
AS SELECT id, `Name` FROM emp WHERE dept = 'eng'

statement error bob
SHOW CREATE TABLE emp
----
PERMISSION_DENIED: bob has no privileges on table 'main.default.emp' (or lacks USE CATALOG / USE SCHEMA on its containers)

statement error
SHOW CREATE TABLE nosuch
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.nosuch was not found

statement error
SHOW CREATE emp
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 6: expected CATALOGS, SCHEMAS, TABLES, GRANTS, COLUMNS, CREATE TABLE or FUNCTIONS after SHOW

statement error
SHOW NOSUCH
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 6: expected CATALOGS, SCHEMAS, TABLES, GRANTS, COLUMNS, CREATE TABLE or FUNCTIONS after SHOW

statement ok
CREATE FUNCTION eng_only(d STRING) RETURNS BOOLEAN RETURN is_account_group_member('admins') OR d = 'eng'

statement ok
CREATE FUNCTION mask_pay(p DECIMAL(10,2)) RETURNS DECIMAL(10,2) RETURN CASE WHEN is_account_group_member('admins') THEN p ELSE 0 END

statement ok
CREATE FUNCTION mask_name(n STRING, d STRING) RETURNS STRING RETURN CASE WHEN is_account_group_member('admins') THEN n ELSE d || ':' || left(n, 1) END

statement ok
CREATE TABLE pay (id INT, name STRING MASK mask_name USING COLUMNS (dept), dept STRING, pay DECIMAL(10,2) MASK main.default.mask_pay) WITH ROW FILTER eng_only ON (dept)

statement ok
INSERT INTO pay VALUES (1, 'ann', 'eng', 10.50), (2, 'bob', 'ops', 20.00)

statement ok
GRANT SELECT ON TABLE pay TO analysts

query alice
SELECT * FROM pay
----
id	name	dept	pay
1	eng:a	eng	0

query alice
SHOW CREATE TABLE pay
----
createtab_stmt
CREATE TABLE main.default.pay (
  id INT,
  name STRING MASK main.default.mask_name USING COLUMNS (dept),
  dept STRING,
  pay DECIMAL(10,2) MASK main.default.mask_pay)
USING delta
WITH ROW FILTER main.default.eng_only ON (dept)

statement error
CREATE TABLE pay2 (id INT, name STRING MASK mask_name USING COLUMNS (nosuch))
----
INVALID_ARGUMENT: column "nosuch" does not exist in table main.default.pay2

statement error
SELECT * FROM pay2
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.pay2 was not found

statement error
CREATE TABLE pay2 (id INT) WITH ROW FILTER nosuch ON (id)
----
NOT_FOUND: function "main.default.nosuch" does not exist

statement error
CREATE TABLE pay2 (id INT) WITH ROW FILTER eng_only (id)
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 53: expected ON, found '('

query
SHOW FUNCTIONS
----
function
main.default.eng_only
main.default.mask_name
main.default.mask_pay

query
SHOW USER FUNCTIONS IN main.default LIKE 'MASK*'
----
function
main.default.mask_name
main.default.mask_pay

query
SHOW FUNCTIONS FROM default 'eng*|mask_n.*'
----
function
main.default.eng_only
main.default.mask_name

query
SHOW ALL FUNCTIONS mask_pay
----
function
main.default.mask_pay

query
SHOW FUNCTIONS default.eng_only
----
function
main.default.eng_only

query
SHOW FUNCTIONS IN other
----
function

query alice
SHOW FUNCTIONS
----
function

statement ok
GRANT EXECUTE ON FUNCTION eng_only TO analysts

query alice
SHOW FUNCTIONS
----
function
main.default.eng_only

statement error bob
SHOW FUNCTIONS
----
PERMISSION_DENIED: bob does not have USE CATALOG on catalog 'main'

statement error
SHOW SYSTEM FUNCTIONS
----
UNSUPPORTED_STATEMENT: SHOW SYSTEM FUNCTIONS is not supported: Lakebox lists the catalog's SQL functions (SHOW USER FUNCTIONS), not the built-in ones

statement error
SHOW FUNCTIONS LIKE '('
----
INVALID_PARAMETER_VALUE: SHOW FUNCTIONS pattern "(" is not valid: error parsing regexp: missing closing ): `(?i)^(?:(?:())$`; use * for any characters and | between alternatives, e.g. 'mask_*|eng*'

statement error
SHOW FUNCTIONS IN other default.eng_only
----
INVALID_IDENTIFIER: SHOW FUNCTIONS names the schema twice: give IN schema or a qualified function name, not both

statement error
SHOW FUNCTIONS IN nosuch
----
SCHEMA_NOT_FOUND: schema "main.nosuch" does not exist

statement ok
ALTER TABLE emp RENAME TO staff

query alice
SELECT id, `Name` FROM staff ORDER BY id
----
id	Name
1	ann
2	bob
3	cid

statement error
SELECT * FROM emp
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.emp was not found

statement error
SELECT * FROM eng
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.emp was not found

statement ok
ALTER TABLE main.default.staff RENAME TO default.emp

statement error
ALTER TABLE emp RENAME TO pay
----
TABLE_ALREADY_EXISTS: table "main.default.pay" already exists

statement error
ALTER TABLE emp RENAME TO other.emp
----
CANNOT_RENAME_ACROSS_SCHEMA: cannot rename main.default.emp to main.other.emp: Lakebox renames a table within its schema (main.default); moving it to another schema is not supported

statement error
ALTER TABLE emp RENAME TO elsewhere.default.emp
----
CANNOT_RENAME_ACROSS_CATALOG: cannot rename main.default.emp to elsewhere.default.emp: a table stays in its catalog; give a name in catalog main

statement error
ALTER TABLE emp RENAME TO `bad name`
----
INVALID_ARGUMENT: invalid new name "bad name": names may not contain periods, spaces, slashes, backticks, backslashes or control characters

statement error
ALTER TABLE eng RENAME TO eng2
----
WRONG_OBJECT_TYPE: main.default.eng is a view; use ALTER VIEW

statement ok
ALTER VIEW eng RENAME TO eng2

query
SHOW TABLES
----
database	tableName	isTemporary
default	emp	false
default	eng2	false
default	pay	false

statement error
ALTER VIEW eng2 SET TBLPROPERTIES ('a' = 'b')
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 17: unsupported ALTER VIEW clause 'SET'; supported: RENAME TO

statement error
ALTER VIEW emp RENAME TO emp2
----
WRONG_OBJECT_TYPE: main.default.emp is a table; use ALTER TABLE

statement error alice
ALTER TABLE emp RENAME TO emp2
----
PERMISSION_DENIED: alice is not the owner of table 'main.default.emp' and does not have MANAGE on it

statement error
ALTER TABLE nosuch RENAME TO emp2
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.nosuch was not found

statement error
ALTER TABLE emp RENAME emp2
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 17: unsupported ALTER TABLE clause 'RENAME'; supported: ADD COLUMNS, RENAME COLUMN, RENAME TO, SET/UNSET TBLPROPERTIES, SET/DROP ROW FILTER, ALTER COLUMN … SET/DROP MASK, ALTER COLUMN … COMMENT

statement error
ALTER SCHEMA other RENAME TO other2
----
UNSUPPORTED_STATEMENT: only ALTER TABLE and ALTER VIEW … RENAME TO are supported

statement error alice
TRUNCATE TABLE emp
----
PERMISSION_DENIED: alice does not have MODIFY on table 'main.default.emp'

statement ok
GRANT MODIFY ON TABLE emp TO analysts

statement ok alice
TRUNCATE TABLE emp

query
SELECT count(*) AS n FROM emp
----
n
0

query
SELECT count(*) AS n FROM emp VERSION AS OF 1
----
n
3

statement ok
INSERT INTO emp (id, `Name`, dept) VALUES (4, 'dan', 'ops')

query
SELECT id, `Name`, dept FROM emp
----
id	Name	dept
4	dan	ops

statement ok
TRUNCATE TABLE emp

statement ok
TRUNCATE TABLE emp

query
SELECT count(*) AS n FROM emp
----
n
0

statement error
TRUNCATE TABLE pay
----
PERMISSION_DENIED: TRUNCATE TABLE is refused on main.default.pay: its row filter may hide rows from you, and truncating would remove them too; DELETE FROM main.default.pay removes the rows you can see, or the owner can drop the row filter first

statement error
TRUNCATE TABLE eng2
----
EXPECT_TABLE_NOT_VIEW: main.default.eng2 is a view; write to its tables instead

statement error
TRUNCATE TABLE emp PARTITION (dept = 'eng')
----
DELTA_TRUNCATE_TABLE_PARTITION_NOT_SUPPORTED: TRUNCATE TABLE … PARTITION is not supported on Delta tables (as on Databricks); use DELETE FROM main.default.emp WHERE <condition on the partition columns>

statement error
TRUNCATE emp
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 10: expected TABLE, found 'emp'

statement error
TRUNCATE TABLE nosuch
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.nosuch was not found

statement ok
CREATE TABLE masked (id INT, secret STRING MASK mask_name USING COLUMNS (id))

statement ok
INSERT INTO masked VALUES (1, 'x')

statement ok
TRUNCATE TABLE masked

query
SELECT count(*) AS n FROM masked
----
n
0
