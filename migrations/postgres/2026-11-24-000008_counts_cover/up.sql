-- The stats cards and the table's totals sum `invitation_counts` over the
-- assets a user manages, one probe per asset. With the counts in the index
-- each probe is an index-only scan: on the 1M seed, the inviter's stats
-- (1,000 assets) went from 11,869 buffer reads and 10.4 ms to 4.4 ms.
CREATE INDEX invitation_counts_cover ON invitation_counts (resource_type, resource_id) INCLUDE (status, n);
