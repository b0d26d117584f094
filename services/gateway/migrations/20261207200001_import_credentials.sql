-- The one-time initial passwords of the accounts a cadre import made (rows
-- with a 登录账号), kept for the job's creator to fetch once
-- (POST /v1/import/{job_id}/credentials deletes them as it answers); gone
-- with the job. Each account must replace its password at the first sign-in.
CREATE TABLE import_credentials (
    job_id            uuid    NOT NULL REFERENCES import_jobs (job_id) ON DELETE CASCADE,
    row_no            integer NOT NULL,
    cadre_id          text    NOT NULL,
    username          text    NOT NULL,
    initial_password  text    NOT NULL,
    PRIMARY KEY (job_id, row_no)
);
