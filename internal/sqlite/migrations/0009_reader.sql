-- Reserved for the reader's experience (issue 17): the account's language.
-- The work that owns this version replaces this file; until then it changes
-- nothing, so versions stay contiguous whatever order the work lands in.
SELECT 1;
