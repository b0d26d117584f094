-- A case whose petitioner already has a final case (复核终结) in the county
-- points at it: the same claim is not accepted again unless the handler
-- states that it rests on new facts and reasons.
ALTER TABLE cases ADD COLUMN repeat_of uuid;
