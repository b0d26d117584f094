-- Accounts that must choose a new password before anything else (the
-- bootstrap admin, whose password came from the deployment's environment):
-- until then their tokens reach only the password change and sign-out.
ALTER TABLE accounts ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
