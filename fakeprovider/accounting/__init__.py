"""What calls cost and leave behind: ledger, metrics, quotas, the prompt-prefix cache."""
