-- Reserved for the publisher console (issue 13): plans in the database, daily counters.
-- The work that owns this version replaces this file; until then it changes
-- nothing, so versions stay contiguous whatever order the work lands in.
SELECT 1;
