"""Identifier and code systems of the directory sources.

France: FR Core and the ANS terminologies (NOS, https://mos.esante.gouv.fr). United States:
the NPI (US Core) and the NUCC provider taxonomy.
"""

# Practitioner identifiers (FR Core: IDNPS = identifier type digit + RPPS or ADELI number).
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
RPPS = "https://rpps.esante.gouv.fr"
# Structure identifiers (IDNST = type digit + FINESS / SIREN / SIRET number).
IDNST = "urn:oid:1.2.250.1.71.4.2.2"
FINESS = "http://finess.sante.gouv.fr"
SIRET = "http://sirene.fr"
# The extraction's own technical structure id; ANS publishes no canonical system for it.
RPPS_STRUCTURE = "https://annuaire.sante.fr/structure"
FR_IDENTIFIER_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"

_NOS = "https://mos.esante.gouv.fr/NOS"
PROFESSION = f"{_NOS}/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
PROFESSION_CATEGORY = f"{_NOS}/TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle"
PRACTICE_MODE = f"{_NOS}/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
ACTIVITY_SECTOR = f"{_NOS}/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
CIVILITY = f"{_NOS}/TRE_R11-CiviliteExercice/FHIR/TRE-R11-CiviliteExercice"
# Savoir-faire of type S (specialite ordinale); the other types (competences, DESC, capacites)
# are written as text with their code, since their terminologies vary by edition.
SPECIALITE_ORDINALE = f"{_NOS}/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"

NPI = "http://hl7.org/fhir/sid/us-npi"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
