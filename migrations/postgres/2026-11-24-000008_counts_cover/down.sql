DROP INDEX invitation_counts_cover;
