"""Resources known by a unique name, with an optional image: employers and tags.

`repository.NamedRepository`, `service.NamedService` and `read_model` hold what they share; a
new such resource is a model, a repository subclass naming its columns, a service instance, its
read model (`named_payload` plus its own fields) and a router.
"""
