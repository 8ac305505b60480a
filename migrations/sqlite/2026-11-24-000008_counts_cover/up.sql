-- The stats cards and the table's totals sum `invitation_counts` over the
-- assets a user manages, one probe per asset: with the counts in the index
-- each probe reads the index alone, not the table too.
CREATE INDEX invitation_counts_cover ON invitation_counts (resource_type, resource_id, status, n);
