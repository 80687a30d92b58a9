-- Reserved for publisher integration (issue 12): signing keys, webhook endpoints and deliveries.
-- The work that owns this version replaces this file; until then it changes
-- nothing, so versions stay contiguous whatever order the work lands in.
SELECT 1;
