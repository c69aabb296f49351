-- Fernhand store, version 9 (SQLite): nothing to change. PostgreSQL's
-- version 9 lets its full-text search use the GIN index under row-level
-- security; SQLite's FTS5 index is used already. Kept so both backends
-- count the same versions.
SELECT 1;
