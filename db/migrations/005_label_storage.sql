-- Label images are GIF (LZW-compressed already) or ZPL, ~25-35 KB each, one per package: PostgreSQL's TOAST
-- would try to compress every one before storing it as it is. EXTERNAL stores them out of line without trying.
-- Only rows written from now on are affected; existing labels stay readable as they are.
ALTER TABLE labels ALTER COLUMN image SET STORAGE EXTERNAL;
