import { UseGuards } from '@nestjs/common';
import { Args, Mutation, Query, ResolveField, Resolver } from '@nestjs/graphql';
import {
  AccessToken,
  OAuth2Attribute,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2Guard,
  OAuth2Payload,
  OAuth2Policy,
  OptionalOAuth2,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { ANSWERS } from './graphql-scenarios';

/** A `Profile` of the schema. */
interface Profile {
  clientId?: string;
  username?: string;
  subject?: string;
  token?: string;
}

@Resolver('Profile')
@UseGuards(OAuth2Guard)
@OAuth2Policy({ extractPayload: true })
class ProfileResolver {
  @Query()
  me(
    @OAuth2Attribute('oauth.client_id') clientId: string,
    @OAuth2Payload('$.username') username: string,
    @OAuth2Payload() payload: { sub?: string } | undefined,
    @AccessToken() token: string,
  ): Profile {
    return { clientId, username, subject: payload?.sub, token };
  }

  @Query()
  @SkipOAuth2()
  publicProfile(): Profile {
    return {};
  }

  @ResolveField()
  tenant(@OAuth2Payload('$.ext.tenant') tenant: string): string {
    return tenant;
  }

  @ResolveField()
  @RequiredScopes('secret:read')
  secret(): string {
    return ANSWERS.secret;
  }

  @ResolveField()
  @SkipOAuth2()
  open(): string {
    return ANSWERS.open;
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
class OrdersResolver {
  @Query()
  count(): number {
    return ANSWERS.count;
  }

  @Query()
  countStrict(): number {
    return ANSWERS.count;
  }

  @Query()
  @RequiredScopes('reports:read')
  report(): string {
    return ANSWERS.report;
  }

  @Query()
  @SkipOAuth2()
  publicInfo(): string {
    return ANSWERS.publicInfo;
  }

  @Query()
  @OptionalOAuth2()
  maybeClient(@OAuth2Attribute('oauth.client_id') clientId: string, @AccessToken() token: string): string {
    return clientId ?? (token === undefined ? 'anonymous' : 'token without attributes');
  }

  @Query()
  refuse(): string {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
  }

  @Mutation()
  @RequiredScopes('orders:write')
  placeOrder(@Args('item') item: string, @OAuth2Attribute('oauth.client_id') clientId: string): string {
    return `${clientId}:${item}`;
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
@RequiredScopes('admin')
class AdminResolver {
  @Query()
  adminStats(): string {
    return ANSWERS.adminStats;
  }

  @Query()
  @RequiredScopes('admin:lite')
  adminLite(): string {
    return ANSWERS.adminLite;
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
@SkipOAuth2()
class PublicResolver {
  @Query()
  hello(@AccessToken() token: string): string {
    return `hello:${token === undefined ? 'anonymous' : 'token'}`;
  }
}

/** The scenario schema's resolvers, schema-first: they implement SCENARIO_TYPE_DEFS. */
export const SCHEMA_FIRST_RESOLVERS = [ProfileResolver, OrdersResolver, AdminResolver, PublicResolver];
