-- Remember the MAC's bytes, not the signature header's text: one MAC has many
-- spellings in hex (upper case, mixed case), and a replay store keyed by the
-- text let an upper-cased copy of a captured request through (issue 18).
ALTER TABLE seen_signatures ADD COLUMN mac bytea;
UPDATE seen_signatures
   SET mac = decode(lower(substr(signature, 8)), 'hex')
 WHERE signature ~ '^sha256=([0-9a-fA-F]{2})+$';
DELETE FROM seen_signatures WHERE mac IS NULL;
-- Two spellings of one MAC may both have been accepted before: keep one.
DELETE FROM seen_signatures a USING seen_signatures b
 WHERE a.county = b.county AND a.mac = b.mac AND a.signature > b.signature;
ALTER TABLE seen_signatures DROP CONSTRAINT seen_signatures_pkey;
ALTER TABLE seen_signatures DROP COLUMN signature;
ALTER TABLE seen_signatures ALTER COLUMN mac SET NOT NULL;
ALTER TABLE seen_signatures ADD PRIMARY KEY (county, mac);
