DROP TABLE catalogue_profile_refs;
DROP TABLE catalogues;
