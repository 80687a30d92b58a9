-- Reserved for the newsroom (issue 11): articles, revisions, images, editions as data, API keys.
-- The work that owns this version replaces this file; until then it changes
-- nothing, so versions stay contiguous whatever order the work lands in.
SELECT 1;
