-- Why a landing file was rejected (a failed gate, an unreadable file, a file in no source's
-- folder), beside the record that it was taken: a misplaced file is recorded once and moved to
-- rejected/, instead of failing every later daily run.
ALTER TABLE landing_files ADD COLUMN reason text;
