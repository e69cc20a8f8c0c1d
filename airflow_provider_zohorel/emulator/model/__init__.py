"""The emulator's model: Zoho's state and rules, with no HTTP in sight (moto's "models").

Accounts (clients, refresh and access tokens, their limits), users and permissions, records,
the link store, related-list metadata, limits, faults, counters and the clock, all held by
:class:`~airflow_provider_zohorel.emulator.model.state.EmulatorState`; ``crm_backend`` applies
the CRM's related-records operations to it. Request-level refusals are raised as
:class:`~airflow_provider_zohorel.emulator.errors.ZohoError`.
"""
