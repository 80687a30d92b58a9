-- Reserved for accounts and their data (issue 14): verification, email change, deletion.
-- The work that owns this version replaces this file; until then it changes
-- nothing, so versions stay contiguous whatever order the work lands in.
SELECT 1;
