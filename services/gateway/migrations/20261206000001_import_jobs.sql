-- Imports (导入) of households, cadres and the region table from the files
-- townships upload: one row per job with its progress, and the per-row
-- error report. Kept here so a job's outcome survives a gateway restart;
-- the data itself goes to the registry.

CREATE TABLE import_jobs (
    job_id          uuid        PRIMARY KEY,
    -- households | cadres | regions
    kind            text        NOT NULL,
    -- all_or_nothing | good_rows_only
    mode            text        NOT NULL,
    -- running | done | failed
    state           text        NOT NULL DEFAULT 'running',
    -- reading | checking | writing | finished
    phase           text        NOT NULL DEFAULT 'reading',
    -- The caller's token subject and scope: who may read the job.
    created_by      text        NOT NULL,
    scope           text        NOT NULL,
    -- xlsx | csv, and the sheet read.
    format          text        NOT NULL DEFAULT '',
    sheet           text        NOT NULL DEFAULT '',
    header_row      integer     NOT NULL DEFAULT 0,
    rows_total      integer     NOT NULL DEFAULT 0,
    rows_processed  integer     NOT NULL DEFAULT 0,
    rows_imported   integer     NOT NULL DEFAULT 0,
    rows_failed     integer     NOT NULL DEFAULT 0,
    -- Why the job failed, or a summary of what it did (Chinese).
    message         text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Bumped with every progress report; a running job silent for long was
    -- cut off by a restart.
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX import_jobs_by_creator ON import_jobs (created_by, created_at DESC);

-- One bad cell or row: the row number a user sees in Excel (header = the
-- header's row), the column as the file writes it, and the reason.
CREATE TABLE import_errors (
    job_id   uuid    NOT NULL REFERENCES import_jobs (job_id) ON DELETE CASCADE,
    seq      integer NOT NULL,
    row_no   integer NOT NULL,
    col      text    NOT NULL,
    reason   text    NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX import_errors_by_row ON import_errors (job_id, row_no, seq);
