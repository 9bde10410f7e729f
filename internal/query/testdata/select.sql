# Reading Delta tables: projection, filters, joins, CTEs, time travel.

statement ok
CREATE TABLE sales (id INT, region STRING, amount DOUBLE, day DATE) PARTITIONED BY (region)

statement ok
INSERT INTO sales VALUES (1, 'eu', 10.5, DATE '2024-01-01'), (2, 'us', 20.0, DATE '2024-01-02'), (3, 'eu', 5.0, DATE '2024-01-03')

statement ok
INSERT INTO sales VALUES (4, 'apac', 7.25, DATE '2024-01-04')

query
SELECT region, count(*) AS n, sum(amount) AS total FROM sales GROUP BY region ORDER BY region
----
region	n	total
apac	1	7.25
eu	2	15.5
us	1	20

query
SELECT * FROM main.default.sales WHERE region = 'eu' ORDER BY id
----
id	region	amount	day
1	eu	10.5	2024-01-01
3	eu	5	2024-01-03

query
WITH big AS (SELECT * FROM sales WHERE amount > 6) SELECT s.id, b.id FROM sales s JOIN big b ON s.id = b.id ORDER BY 1
----
id	id
1	1
2	2
4	4

query
SELECT count(*) FROM sales VERSION AS OF 1
----
count_star()
3

query
SELECT count(*) FROM sales@v0
----
count_star()
0

query
SELECT id FROM default.sales WHERE id IN (SELECT id FROM sales WHERE region = 'us')
----
id
2

statement error
SELECT * FROM nosuch
----
TABLE_OR_VIEW_NOT_FOUND: table or view main.default.nosuch was not found

statement error
SELECT nosuchcol FROM sales
----
UNRESOLVED_COLUMN: Binder Error: Referenced column "nosuchcol" not found in FROM clause! Candidate bindings: "amount"

statement error
SELEC * FROM sales
----
PARSE_SYNTAX_ERROR: syntax error at line 1, position 1: unknown statement SELEC; supported: SELECT, WITH, INSERT, UPDATE, DELETE, MERGE, COPY INTO, TRUNCATE, CREATE, DROP, ALTER, COMMENT ON, DESCRIBE, SHOW, USE, GRANT, REVOKE, OPTIMIZE, VACUUM, RESTORE

statement error
SELECT * FROM sales VERSION AS OF 99
----
VERSION_NOT_AVAILABLE: version 99 of main.default.sales is not available: version 99 of _delta_log/ does not exist: the latest version is 2

query
SELECT MAP {'k1': 1, 'k2': 2} AS m, [1, 2] AS a, {'x': 'y'} AS s
----
m	a	s
{k1:1,k2:2}	[1,2]	{x:y}
