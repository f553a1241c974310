"""FHIR R4: read and search of a clinic's records, Bulk Data export, the patient's own record."""
