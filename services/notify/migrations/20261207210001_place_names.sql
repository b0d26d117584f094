-- Notices name places and people, not codes: the templates shipped with
-- `{{region_code}}` say `{{region_name}}` now (the village or township by
-- name, carried by the events; the code when an event carries no name).
-- Only templates nobody edited change (updated_by is still 'system');
-- an edited one keeps its text, and its editor may switch when they like.
-- The version stays: no editor's text is overwritten, so an edit made from
-- the version read before this migration still applies.
UPDATE templates
   SET title = replace(title, '{{region_code}}', '{{region_name}}'),
       body = replace(body, '{{region_code}}', '{{region_name}}'),
       sms_body = replace(sms_body, '{{region_code}}', '{{region_name}}'),
       updated_at = now()
 WHERE updated_by = 'system'
   AND (title || body || sms_body) LIKE '%{{region\_code}}%';
