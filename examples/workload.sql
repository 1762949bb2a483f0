-- The demo's SQL workload: build a 200k-row table, index it, aggregate.
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount REAL, note TEXT);
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 200000)
INSERT INTO orders SELECT i, (i * 7919) % 1000, ((i * 104729) % 100000) / 100.0,
                          'order-' || hex(i * 31) FROM seq;
CREATE INDEX orders_customer ON orders(customer);
SELECT count(*), printf('%.2f', sum(amount)), min(note), max(note) FROM orders;
SELECT customer, count(*), printf('%.2f', avg(amount)) FROM orders
  WHERE customer BETWEEN 100 AND 104 GROUP BY customer ORDER BY customer;
SELECT customer, printf('%.2f', sum(amount)) AS total FROM orders
  GROUP BY customer ORDER BY total DESC, customer LIMIT 5;
SELECT count(*) FROM orders o1 JOIN orders o2 ON o1.customer = o2.customer
  WHERE o1.id < 300 AND o2.id < 3000;
SELECT length(group_concat(note, ',')) FROM (SELECT note FROM orders ORDER BY note DESC LIMIT 1000);
